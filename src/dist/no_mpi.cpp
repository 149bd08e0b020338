// The build without MPI: world() is always a single process.
#include "mpi_communicator.h"

#include "recur/core/error.h"

namespace recur::dist {

bool built_with_mpi() { return false; }

std::unique_ptr<Communicator> make_mpi_communicator() {
  RECUR_FAIL("recur was built without MPI; install libopenmpi-dev and rebuild");
}

}  // namespace recur::dist
