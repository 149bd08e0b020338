// read_file_bytes and write_file_atomic: round trips, errors naming the path, no leftover temps.
#include "recur/io/file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "recur/core/error.h"
#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;

class FileTest : public testing::ScratchDirTest {
 protected:
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(FileTest, WriteThenReadRoundTripsBinaryBytes) {
  std::string bytes("a\0b\xff\n", 5);
  for (int i = 0; i < 300000; ++i) bytes += char(i * 7);  // Several read chunks.
  write_file_atomic(Path("x.bin"), bytes);
  EXPECT_EQ(read_file_bytes(Path("x.bin")), bytes);
  EXPECT_EQ(Listing(), std::vector<std::string>{"x.bin"});
}

TEST_F(FileTest, WritesEmptyFileAndOverwrites) {
  write_file_atomic(Path("x"), "old contents that are longer");
  write_file_atomic(Path("x"), "");
  EXPECT_EQ(read_file_bytes(Path("x")), "");
  write_file_atomic(Path("x"), "new");
  EXPECT_EQ(read_file_bytes(Path("x")), "new");
  EXPECT_EQ(Listing(), std::vector<std::string>{"x"});
}

TEST_F(FileTest, RelativePathWritesInCurrentDirectory) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  write_file_atomic("rel.txt", "hi");
  fs::current_path(old);
  EXPECT_EQ(read_file_bytes(Path("rel.txt")), "hi");
}

TEST_F(FileTest, OverwriteKeepsPermissions) {
  write_file_atomic(Path("x"), "1");
  fs::permissions(Path("x"), fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(Path("x"), "2");
  EXPECT_EQ(fs::status(Path("x")).permissions(), fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(FileTest, ReadMissingFileNamesPathAndReason) {
  const std::string p = Path("missing.npy");
  EXPECT_RECUR_ERROR(read_file_bytes(p), "cannot open '" + p + "'", "No such file or directory");
}

TEST_F(FileTest, ReadDirectoryFails) {
  EXPECT_RECUR_ERROR(read_file_bytes(dir_), "'" + dir_ + "'", "directory");
}

TEST_F(FileTest, ReadUnreadableFileFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root, which can read any file";
  write_file_atomic(Path("secret"), "x");
  fs::permissions(Path("secret"), fs::perms::none);
  EXPECT_RECUR_ERROR(read_file_bytes(Path("secret")), Path("secret"), "Permission denied");
}

TEST_F(FileTest, WriteIntoMissingDirectoryFailsNamingPath) {
  const std::string p = Path("no/such/dir/x.bin");
  EXPECT_RECUR_ERROR(write_file_atomic(p, "data"), "'" + p + "'", "No such file or directory");
  EXPECT_TRUE(Listing().empty());
}

TEST_F(FileTest, FailedRenameRemovesTempAndKeepsTarget) {
  // The target is a non-empty directory, so the final rename fails after the data was written.
  fs::create_directories(Path("target/inside"));
  EXPECT_RECUR_ERROR(write_file_atomic(Path("target"), "data"), "'" + Path("target") + "'",
                     "rename");
  EXPECT_EQ(Listing(), std::vector<std::string>{"target"});
  EXPECT_TRUE(fs::is_directory(Path("target/inside")));
}

TEST_F(FileTest, WriteIntoReadOnlyDirectoryFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root, which can write any directory";
  write_file_atomic(Path("x"), "old");
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_RECUR_ERROR(write_file_atomic(Path("x"), "new"), "'" + Path("x") + "'");
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(read_file_bytes(Path("x")), "old");
  EXPECT_EQ(Listing(), std::vector<std::string>{"x"});
}

// What a write killed before its rename leaves (".<file>.tmp.<pid>.<n>.<host>") is removed by the
// next write of that file when its process is gone and it is this machine's; a live process's,
// another machine's, another file's and an old-style name stay.
TEST_F(FileTest, WriteRemovesTemporariesOfDeadProcessesOnThisMachine) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // a pid now known to be gone
  char host_buf[256] = {};
  ASSERT_EQ(::gethostname(host_buf, sizeof host_buf - 1), 0);
  const std::string host = host_buf, dead = std::to_string(child), live = std::to_string(::getppid());
  const std::vector<std::string> stale = {".x.bin.tmp." + dead + ".0." + host,
                                          ".x.bin.tmp." + dead + ".7." + host};
  const std::vector<std::string> kept = {".x.bin.tmp." + live + ".0." + host,      // alive
                                         ".x.bin.tmp." + dead + ".1.other-machine",  // not ours
                                         ".y.bin.tmp." + dead + ".0." + host,       // another file
                                         ".x.bin.tmp." + dead + ".2"};              // old style
  for (const auto& names : {stale, kept})
    for (const std::string& n : names) std::ofstream(Path(n)) << "half a checkpoint";
  write_file_atomic(Path("x.bin"), "whole");
  std::vector<std::string> want = kept;
  want.push_back("x.bin");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Listing(), want);
  EXPECT_EQ(read_file_bytes(Path("x.bin")), "whole");
}

TEST_F(FileTest, PathEndingInSlashIsRejected) {
  EXPECT_RECUR_ERROR(write_file_atomic(dir_ + "/", "x"), "'" + dir_ + "/'");
}

// The crash-safety test hook: each point kills a child process with SIGKILL mid-write, leaving the
// old target and the temporary file at that stage (after the rename: the new target, no temporary);
// the next write of the file removes what the dead process left.
TEST_F(FileTest, CrashPointsKillTheWriteWhereTheySay) {
  using detail::CrashPoint;
  const std::string old_bytes = "old", new_bytes(1000, 'n');
  struct Case {
    CrashPoint point;
    size_t temp_size;  // std::string::npos: no temporary file
    bool renamed;
  };
  const Case cases[] = {{CrashPoint::before_header, 0, false},
                        {CrashPoint::mid_data, 500, false},
                        {CrashPoint::before_fsync, 1000, false},
                        {CrashPoint::before_rename, 1000, false},
                        {CrashPoint::after_rename, std::string::npos, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(int(c.point));
    write_file_atomic(Path("x.bin"), old_bytes);
    const pid_t child = ::fork();
    if (child == 0) {
      detail::write_file_atomic_at(Path("x.bin"), new_bytes, c.point);
      ::_exit(0);  // not reached: the write kills the child
    }
    ASSERT_GT(child, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_EQ(read_file_bytes(Path("x.bin")), c.renamed ? new_bytes : old_bytes);
    std::vector<std::string> names = Listing();
    ASSERT_EQ(names.size(), c.renamed ? 1u : 2u);
    if (!c.renamed) {
      EXPECT_EQ(names[0].rfind(".x.bin.tmp." + std::to_string(child) + ".", 0), 0u) << names[0];
      EXPECT_EQ(fs::file_size(Path(names[0])), c.temp_size);
    }
    write_file_atomic(Path("x.bin"), "after");
    EXPECT_EQ(Listing(), std::vector<std::string>{"x.bin"});
  }
}

TEST(FileCrashPlan, ParsesPointWriteAndPathPart) {
  EXPECT_EQ(detail::parse_crash_plan("").point, detail::CrashPoint::none);
  const detail::CrashPlan a = detail::parse_crash_plan("mid-data:2");
  EXPECT_EQ(a.point, detail::CrashPoint::mid_data);
  EXPECT_EQ(a.write, 2);
  EXPECT_EQ(a.path_part, "");
  const detail::CrashPlan b = detail::parse_crash_plan("after-rename:13:.ckpt:x");
  EXPECT_EQ(b.point, detail::CrashPoint::after_rename);
  EXPECT_EQ(b.write, 13);
  EXPECT_EQ(b.path_part, ".ckpt:x");
  EXPECT_EQ(detail::parse_crash_plan("before-header:1").point, detail::CrashPoint::before_header);
  EXPECT_EQ(detail::parse_crash_plan("before-fsync:1").point, detail::CrashPoint::before_fsync);
  EXPECT_EQ(detail::parse_crash_plan("before-rename:1").point, detail::CrashPoint::before_rename);
}

TEST(FileCrashPlan, MalformedValuesNameTheVariableAndTheForm) {
  for (const std::string v : {"mid-data", "mid-data:", "mid-data:0", "mid-data:-1", "mid-data:x",
                              "mid-data:2 ", "mid-data:1234567890", "middle:1", ":1", "MID-DATA:1",
                              "mid-data:1:", "1:mid-data"})
    EXPECT_RECUR_ERROR(detail::parse_crash_plan(v), "RECUR_TEST_CRASH='" + v + "' is malformed",
                       "<point>:<n>[:<path part>]", "before-header, mid-data, before-fsync");
}

TEST(FileDecode, HalfAndBfloat16) {
  EXPECT_EQ(detail::f16_to_float(0x3c00), 1.0f);
  EXPECT_EQ(detail::f16_to_float(0xc000), -2.0f);
  EXPECT_EQ(detail::f16_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(detail::f16_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(detail::f16_to_float(0x0001), std::ldexp(1.0f, -24));  // Smallest subnormal.
  EXPECT_EQ(detail::f16_to_float(0x8000), -0.0f);
  EXPECT_TRUE(std::signbit(detail::f16_to_float(0x8000)));
  EXPECT_EQ(detail::f16_to_float(0x7c00), INFINITY);
  EXPECT_TRUE(std::isnan(detail::f16_to_float(0x7e00)));
  EXPECT_EQ(detail::bf16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(detail::bf16_to_float(0xc040), -3.0f);
}

}  // namespace
}  // namespace recur
