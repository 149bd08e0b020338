// MPI_COMM_WORLD as a Communicator. MPI is started on first use (only when a launcher started the
// process) and finished at exit. Every collective checks MPI's return code; a failure ends the job
// on every rank with MPI_Abort rather than leaving the others waiting.
#include "mpi_communicator.h"

// MPI's C interface only (Open MPI and MPICH would otherwise pull in their deprecated C++ one).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "recur/core/error.h"

namespace recur::dist {

bool built_with_mpi() { return true; }

namespace {

class Mpi final : public Communicator {
 public:
  Mpi() {
    int started = 0;
    MPI_Initialized(&started);
    if (!started) {
      int provided = 0;
      // Only the thread that started MPI calls it (the signal thread never does).
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      std::atexit([] {
        int done = 0;
        MPI_Finalized(&done);
        if (!done) MPI_Finalize();
      });
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void allreduce_sum(float* data, size_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "allreduce");
  }
  void allreduce_sum(double* data, size_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "allreduce");
  }
  int start_allreduce_sum(float* data, size_t n) override {
    requests_.push_back(MPI_REQUEST_NULL);
    check(MPI_Iallreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                         &requests_.back()),
          "iallreduce");
    return int(requests_.size()) - 1;
  }
  void progress() override {
    if (requests_.empty()) return;
    int done = 0;
    check(MPI_Testall(int(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE),
          "test");
  }
  void wait(int ticket) override {
    RECUR_CHECK(ticket >= 0 && size_t(ticket) < requests_.size(), "wait: no reduction " << ticket);
    check(MPI_Wait(&requests_[size_t(ticket)], MPI_STATUS_IGNORE), "wait");
    // Completed requests are MPI_REQUEST_NULL; forget them all once none is pending.
    for (MPI_Request r : requests_)
      if (r != MPI_REQUEST_NULL) return;
    requests_.clear();
  }
  void broadcast(float* data, size_t n, int root) override {
    check(MPI_Bcast(data, count(n), MPI_FLOAT, root, MPI_COMM_WORLD), "broadcast");
  }
  void broadcast(double* data, size_t n, int root) override {
    check(MPI_Bcast(data, count(n), MPI_DOUBLE, root, MPI_COMM_WORLD), "broadcast");
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  static int count(size_t n) {
    RECUR_CHECK(n <= size_t(2147483647), "MPI: " << n << " values in one message; at most 2^31-1");
    return int(n);
  }
  void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    std::fprintf(stderr, "recur: rank %d of %d: MPI %s failed: %.*s; ending the job\n", rank_,
                 size_, what, len, text);
    std::fflush(stderr);
    abort(3);
  }
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<Mpi>(); }

}  // namespace recur::dist
