// The processes of a data-parallel run and the collective operations between them. One process on
// its own is a communicator of size 1 whose collectives do nothing; under an MPI launcher
// (`mpirun -np N recur ...`) world() is MPI_COMM_WORLD. The library never starts MPI unless a
// launcher started this process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace recur::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "single" or "mpi"

  // In place: every rank ends with the element-wise sum over all ranks (the same bits on every
  // rank).
  virtual void allreduce_sum(float* data, size_t n) = 0;
  virtual void allreduce_sum(double* data, size_t n) = 0;
  // The same, started now and completed by wait(): the caller may compute meanwhile but must not
  // touch `data` until wait() returns. Returns a ticket for wait().
  virtual int start_allreduce_sum(float* data, size_t n) = 0;
  // Lets started reductions make progress (MPI progresses them only inside its calls).
  virtual void progress() = 0;
  virtual void wait(int ticket) = 0;
  // Every rank ends with `root`'s data.
  virtual void broadcast(float* data, size_t n, int root) = 0;
  virtual void broadcast(double* data, size_t n, int root) = 0;
  // Ends every process of the job (with MPI, MPI_Abort); a single process exits.
  [[noreturn]] virtual void abort(int code) = 0;
};

// This process's communicator: MPI's world when an MPI launcher started the process (and recur was
// built with MPI), otherwise a single process. Starts MPI on first use; safe to call repeatedly.
Communicator& world();

// Whether a launcher started this process as one rank of several (from the launcher's environment;
// does not start MPI), and how many of the job's ranks run on this machine (1 when not launched).
bool launched_by_mpi();
int ranks_on_this_node();
int launched_rank();  // this process's rank as the launcher set it (0 when not launched)

// Whether this build can run data-parallel over MPI.
bool built_with_mpi();

// The contiguous share [begin, end) of n items that `rank` of `size` takes: as even as possible,
// the first n % size ranks one more.
struct Range {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
Range share(int64_t n, int rank, int size);

}  // namespace recur::dist
