// read_file_bytes and write_file_atomic on POSIX file descriptors, reporting errno as text.
#include "recur/io/file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"

namespace recur {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor when it goes out of scope unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// This machine's name, for the temporary files' names ("" if it has none).
std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// Removes the temporary files that writes of `base` by processes of this machine that no longer
// exist left in `dir` (a write killed before its rename: SIGKILL, a power cut). A name says which
// process made it: ".<base>.tmp.<pid>.<n>.<host>". Files of live processes, of other machines
// (a shared filesystem) or of another shape stay. Best effort: nothing here fails the write.
void remove_stale_temporaries(const std::string& dir, const std::string& base, const std::string& host) {
  if (host.empty()) return;  // a machine without a name cannot tell its files from others'
  const std::string prefix = "." + base + ".tmp.";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // <pid>.<n>.<host>
    const size_t dot1 = rest.find('.');
    const size_t dot2 = dot1 == std::string::npos ? dot1 : rest.find('.', dot1 + 1);
    if (dot2 == std::string::npos || dot1 == 0 || rest.substr(dot2 + 1) != host) continue;
    const std::string pid_text = rest.substr(0, dot1);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) continue;
    const pid_t pid = pid_t(std::stol(pid_text));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    ::unlink(it->path().c_str());
  }
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w == 0) errno = EIO;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

constexpr const char* kCrashVariable = "RECUR_TEST_CRASH";
constexpr EnumNames<detail::CrashPoint, 5> kCrashPoints{
    {{detail::CrashPoint::before_header, "before-header"},
     {detail::CrashPoint::mid_data, "mid-data"},
     {detail::CrashPoint::before_fsync, "before-fsync"},
     {detail::CrashPoint::before_rename, "before-rename"},
     {detail::CrashPoint::after_rename, "after-rename"}}};

// Where the test hook RECUR_TEST_CRASH kills this write (none but in tests). Parsed once.
detail::CrashPoint crash_point_for(const std::string& path) {
  static const detail::CrashPlan plan = [] {
    const char* v = std::getenv(kCrashVariable);
    return detail::parse_crash_plan(v ? v : "");
  }();
  static std::atomic<int64_t> counted{0};
  if (plan.point == detail::CrashPoint::none) return plan.point;
  if (path.find(plan.path_part) == std::string::npos) return detail::CrashPoint::none;
  return ++counted == plan.write ? plan.point : detail::CrashPoint::none;
}

// Kills this process, as `kill -KILL` would, when the write has reached the chosen point.
void crash_at(detail::CrashPoint chosen, detail::CrashPoint here) {
  if (chosen == here) ::raise(SIGKILL);
}

}  // namespace

std::string read_file_bytes(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  RECUR_CHECK(f.fd >= 0, "cannot open '" << path << "': " << errno_text(errno));
  struct stat st {};
  RECUR_CHECK(::fstat(f.fd, &st) == 0, "cannot stat '" << path << "': " << errno_text(errno));
  RECUR_CHECK(!S_ISDIR(st.st_mode), "cannot read '" << path << "': it is a directory");
  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(size_t(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(f.fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    RECUR_CHECK(r >= 0, "cannot read '" << path << "': " << errno_text(errno));
    if (r == 0) break;
    out.append(buf, size_t(r));
  }
  return out;
}

namespace detail {

CrashPlan parse_crash_plan(const std::string& value) {
  CrashPlan plan;
  if (value.empty()) return plan;
  const size_t colon1 = value.find(':');
  const size_t colon2 = colon1 == std::string::npos ? colon1 : value.find(':', colon1 + 1);
  const std::string name = value.substr(0, colon1);
  const std::string n =
      colon1 == std::string::npos ? "" : value.substr(colon1 + 1, colon2 - colon1 - 1);
  if (const CrashPoint* point = find_enum(kCrashPoints, name)) plan.point = *point;
  const bool digits =
      !n.empty() && n.size() <= 9 && n.find_first_not_of("0123456789") == std::string::npos;
  plan.write = digits ? std::stoll(n) : 0;
  if (colon2 != std::string::npos) plan.path_part = value.substr(colon2 + 1);
  RECUR_CHECK(plan.point != CrashPoint::none && plan.write >= 1 &&
                  (colon2 == std::string::npos || !plan.path_part.empty()),
              kCrashVariable << "='" << value << "' is malformed: expected <point>:<n>[:<path part>]"
                             << " with <point> one of before-header, mid-data, before-fsync,"
                             << " before-rename, after-rename and <n> the number (1, 2, ...) of"
                             << " the write to kill among those whose path contains <path part>");
  return plan;
}

void write_file_atomic_at(const std::string& path, const std::string& bytes, CrashPoint point) {
  const std::filesystem::path target(path);
  const std::string base = target.filename().string();
  RECUR_CHECK(!base.empty(), "cannot write '" << path << "': the path names no file");
  std::string dir = target.parent_path().string();
  if (dir.empty()) dir = ".";

  // Create a fresh temporary file next to the target (same filesystem, so rename is atomic).
  static std::atomic<uint64_t> counter{0};
  const std::string host = host_name();
  std::string tmp;
  Fd f;
  for (int attempt = 0; f.fd < 0; ++attempt) {
    tmp = dir + "/." + base + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) +
          "." + host;
    f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    RECUR_CHECK(f.fd >= 0 || (errno == EEXIST && attempt < 100),
                "cannot write '" << path << "': cannot create a temporary file in '" << dir
                                 << "': " << errno_text(errno));
  }

  // From here on, any failure removes the temporary file before throwing.
  auto fail = [&](const char* step, int err) {
    ::close(f.release());
    ::unlink(tmp.c_str());
    RECUR_FAIL("cannot write '" << path << "': " << step << " failed: " << errno_text(err));
  };
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode) &&
      ::fchmod(f.fd, old.st_mode & 07777) != 0)
    fail("keeping the permissions", errno);
  crash_at(point, CrashPoint::before_header);
  const size_t half = point == CrashPoint::mid_data ? bytes.size() / 2 : 0;
  if (!write_all(f.fd, bytes.data(), half)) fail("write", errno);
  crash_at(point, CrashPoint::mid_data);
  if (!write_all(f.fd, bytes.data() + half, bytes.size() - half)) fail("write", errno);
  crash_at(point, CrashPoint::before_fsync);
  if (::fsync(f.fd) != 0) fail("fsync", errno);
  if (::close(f.release()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    RECUR_FAIL("cannot write '" << path << "': close failed: " << errno_text(err));
  }
  crash_at(point, CrashPoint::before_rename);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    RECUR_FAIL("cannot write '" << path << "': rename from '" << tmp
                                << "' failed: " << errno_text(err));
  }
  crash_at(point, CrashPoint::after_rename);

  // Make the rename itself durable. Filesystems that cannot sync directories say EINVAL.
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  RECUR_CHECK(d.fd >= 0, "wrote '" << path << "' but cannot open its directory '" << dir
                                   << "' to sync it: " << errno_text(errno));
  RECUR_CHECK(::fsync(d.fd) == 0 || errno == EINVAL || errno == EROFS,
              "wrote '" << path << "' but cannot sync its directory '" << dir
                        << "': " << errno_text(errno));
  remove_stale_temporaries(dir, base, host);
}

}  // namespace detail

void write_file_atomic(const std::string& path, const std::string& bytes) {
  detail::write_file_atomic_at(path, bytes, crash_point_for(path));
}

}  // namespace recur
