// Shared by the fuzz targets: the input written to a file the loader reads, one per process.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "recur/core/error.h"

namespace recur::fuzz {

// A directory of this process's own, removed at exit: under $RECUR_FUZZ_TMPDIR, else /dev/shm
// (memory: writing the input to a disk file each execution makes a target 50 times slower), else
// $TMPDIR or /tmp.
inline std::string scratch_dir_path() {
  std::string base = "/tmp";
  if (const char* f = std::getenv("RECUR_FUZZ_TMPDIR"); f && *f)
    base = f;
  else if (std::filesystem::is_directory("/dev/shm"))
    base = "/dev/shm";
  else if (const char* t = std::getenv("TMPDIR"); t && *t)
    base = t;
  return base + "/recur_fuzz_" + std::to_string(::getpid());
}
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string d = scratch_dir_path();
    std::filesystem::create_directories(d);
    // Runs after `dir` may have been destroyed: recomputes the path.
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir_path(), ec);
    });
    return d;
  }();
  return dir;
}

// Writes the fuzzer's bytes to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs f, letting through only recur::Error, the loaders' one way to refuse an input: anything
// else (another exception, a crash, a sanitizer report) reaches libFuzzer as a finding.
template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const recur::Error&) {
  }
}

}  // namespace recur::fuzz
