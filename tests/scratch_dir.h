// ScratchDirTest: a fresh directory for each test under GoogleTest's TempDir, removed afterwards
// (owner permissions restored first, so a test may make it read-only); plus small file helpers
// shared by the I/O tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace recur::testing {

class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "recur_" + info->test_suite_name() + "_" + info->name() + "_" +
           std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

// Writes bytes to `path` as they are (no atomic rename: tests use it to make broken files).
inline void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// True when /usr/bin/python3 can import numpy; otherwise says why.
inline bool HavePythonNumpy(std::string* why) {
  if (!std::filesystem::exists("/usr/bin/python3")) return *why = "/usr/bin/python3 is missing", false;
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    return *why = "/usr/bin/python3 cannot import numpy", false;
  return true;
}

}  // namespace recur::testing
