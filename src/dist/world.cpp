// world(): a single process, or MPI's world when a launcher started this process.
#include "recur/dist/communicator.h"

#include <cstdlib>
#include <thread>

#include "mpi_communicator.h"
#include "recur/core/error.h"

namespace recur::dist {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "single"; }
  void allreduce_sum(float*, size_t) override {}
  void allreduce_sum(double*, size_t) override {}
  int start_allreduce_sum(float*, size_t) override { return 0; }
  void progress() override {}
  void wait(int) override {}
  void broadcast(float*, size_t, int) override {}
  void broadcast(double*, size_t, int) override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}

}  // namespace

bool launched_by_mpi() {
  // Open MPI, then the PMI/PMIx variables MPICH's and Slurm's launchers set.
  return env_int("OMPI_COMM_WORLD_SIZE") > 1 || env_int("PMI_SIZE") > 1 ||
         env_int("PMIX_SIZE") > 1;
}

int ranks_on_this_node() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"})
    if (env_int(name) > 0) return env_int(name);
  return 1;
}

int launched_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (std::getenv(name)) return env_int(name);
  return 0;
}

Communicator& world() {
  static std::unique_ptr<Communicator> comm = [] () -> std::unique_ptr<Communicator> {
    if (!launched_by_mpi()) return std::make_unique<SingleProcess>();
    RECUR_CHECK(built_with_mpi(),
                "this process was started by an MPI launcher, but recur was built without MPI "
                "(install libopenmpi-dev, scripts/setup.sh does, and rebuild)");
    return make_mpi_communicator();
  }();
  return *comm;
}

Range share(int64_t n, int rank, int size) {
  RECUR_CHECK(size >= 1 && rank >= 0 && rank < size,
              "share: rank " << rank << " of " << size << " is not a rank");
  const int64_t base = n / size, extra = n % size;
  Range r;
  r.begin = rank * base + std::min<int64_t>(rank, extra);
  r.end = r.begin + base + (rank < extra ? 1 : 0);
  return r;
}

}  // namespace recur::dist
