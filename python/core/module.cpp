// recur._core, the compiled half of the Python package (python/recur/ is the other):
//   _Layer, Stream             the numpy layer and its streaming (layer.cpp)
//   _Config, forward, backward the functional stack that recur.nn's autograd runs (autograd.cpp)
//   read_safetensors, write_safetensors   tensors and metadata
//   run(args)                  the `recur` command line in-process
#include <pybind11/stl.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "arrays.h"
#include "commands.h"
#include "recur/io/safetensors.h"
#include "recur/train/run_files.h"
#include "recur/version.h"

namespace recur::python {

void bind_layer(py::module_& m);
void bind_autograd(py::module_& m);

namespace {

void run_args(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"recur"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::string error;
  int status;
  {
    py::gil_scoped_release release;  // long training runs let other Python threads go on
    status = recur::cli::run_command_line(int(argv.size()), argv.data(), &error);
    std::fflush(nullptr);
  }
  if (status != 0)
    throw recur::Error(error.empty() ? "recur exited with status " + std::to_string(status) : error);
}

}  // namespace
}  // namespace recur::python

PYBIND11_MODULE(_core, m) {
  using namespace recur;
  using namespace recur::python;
  m.doc() = "recur's compiled core (use the package: import recur, recur.nn)";
  py::register_exception<recur::Error>(m, "Error", PyExc_ValueError);
  bind_layer(m);
  bind_autograd(m);
  m.def("read_safetensors",
        [](const std::string& path) {
          const Safetensors<float> st = load_safetensors<float>(path);
          py::dict tensors;
          for (const auto& [name, t] : st.tensors) tensors[py::str(name)] = to_array(t);
          return py::make_tuple(tensors, st.metadata);
        },
        py::arg("path"), "Reads a safetensors file: (dict of float32 arrays, metadata dict).");
  m.def("write_safetensors",
        [](const std::string& path, const py::dict& tensors, const std::map<std::string, std::string>& meta) {
          std::map<std::string, Tensor<float>> out;
          for (const auto& [k, v] : tensors) {
            const std::string name = k.cast<std::string>();
            out[name] = to_tensor(v.cast<Array>(), name.c_str());
          }
          save_safetensors(path, out, meta);
        },
        py::arg("path"), py::arg("tensors"), py::arg("metadata") = std::map<std::string, std::string>{},
        "Writes float32 tensors (and string metadata) to a safetensors file, atomically.");
  m.def("run", &run_args, py::arg("args"),
        "Runs the recur command line in-process (args without the program name); raises recur.Error "
        "on failure.");
  m.def("run_files",
        [](const std::string& out) {
          return std::map<std::string, std::string>{{"metrics", metrics_path_for(out)},
                                                    {"plot", plot_path_for(out)},
                                                    {"checkpoint", checkpoint_path_for(out)}};
        },
        py::arg("out"), "The files a trainer writes beside the model `out`: metrics, plot, checkpoint.");
  m.def("line_buffered_stdout", [] { std::setvbuf(stdout, nullptr, _IOLBF, 0); },
        "C stdio writes stdout line by line (for a pipe that Python forwards to sys.stdout).");
  m.attr("__version__") = RECUR_VERSION;
}
