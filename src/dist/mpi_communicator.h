// The MPI communicator behind world(): src/dist/mpi_communicator.cpp when CMake found MPI,
// src/dist/no_mpi.cpp otherwise.
#pragma once

#include <memory>

#include "recur/dist/communicator.h"

namespace recur::dist {

std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace recur::dist
