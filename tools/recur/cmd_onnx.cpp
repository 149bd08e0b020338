// `recur run-onnx`: runs an ONNX model (recur/io/onnx.h) on .npy inputs and writes .npy outputs.
//   recur run-onnx --model m.onnx --input x.npy --output y.npy
//   recur run-onnx --model m.onnx --input tokens=t.npy --input h0=h.npy --output logits=y.npy
// A bare FILE binds the graph's inputs (outputs) in the file's order; NAME=FILE binds by name.
// `recur export-onnx`: writes a recur model as ONNX (recur/io/onnx.h says which).
//   recur export-onnx --model m.safetensors --out m.onnx
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "recur/io/npy.h"
#include "recur/io/onnx.h"

namespace recur::cli {
namespace {

struct RunOnnxArgs {
  std::string model;
  std::vector<std::string> inputs, outputs;
  bool list = false;
};

// "NAME=FILE" -> (NAME, FILE); "FILE" -> the name in `names` at position k.
std::pair<std::string, std::string> binding(const std::string& arg, const std::vector<std::string>& names,
                                            size_t k, const char* option, const char* what) {
  const size_t eq = arg.find('=');
  if (eq != std::string::npos) return {arg.substr(0, eq), arg.substr(eq + 1)};
  RECUR_CHECK(k < names.size(), option << " " << arg << ": the model has only " << names.size() << " "
                                     << what << "s; name the one you mean with NAME=FILE");
  return {names[k], arg};
}

void run(const RunOnnxArgs& a) {
  const OnnxGraph g = OnnxGraph::load(a.model);
  if (a.list) {
    for (const std::string& n : g.inputs())
      std::printf("input  %s (%s, rank %d)\n", n.c_str(),
                  g.input_type(n) == OnnxValue::Type::i64 ? "int64" : "float32", g.input_rank(n));
    for (const std::string& n : g.outputs()) std::printf("output %s\n", n.c_str());
    return;
  }
    // Every output named before anything runs or is written: a bad name leaves no file behind.
  std::vector<std::pair<std::string, std::string>> outputs;
  for (size_t k = 0; k < a.outputs.size(); ++k) {
    outputs.push_back(binding(a.outputs[k], g.outputs(), k, "--out", "output"));
    const std::string& name = outputs.back().first;
    RECUR_CHECK(std::find(g.outputs().begin(), g.outputs().end(), name) != g.outputs().end(),
                "the model has no output '" << name << "' (see --list)");
  }
  std::map<std::string, OnnxValue> feeds;
  for (size_t k = 0; k < a.inputs.size(); ++k) {
    const auto [name, file] = binding(a.inputs[k], g.inputs(), k, "--input", "input");
    const Tensor<double> shape_source = load_npy<double>(file);
    if (g.input_type(name) == OnnxValue::Type::i64) {
      feeds[name] = OnnxValue::ints(shape_source.shape, load_npy_int(file));
    } else {
      check_finite(shape_source, file);
      feeds[name] = OnnxValue::floats(shape_source.shape,
                                      std::vector<float>(shape_source.data.begin(), shape_source.data.end()));
    }
  }
  const std::map<std::string, OnnxValue> out = g.run(feeds);
  for (const auto& [name, file] : outputs) {
    auto it = out.find(name);
    Tensor<float> t(it->second.shape);
    if (it->second.type == OnnxValue::Type::f32) t.data = it->second.f;
    else t.data.assign(it->second.i.begin(), it->second.i.end());
    save_npy(file, t);
  }
}

}  // namespace

void add_run_onnx(CLI::App& app, Action& action) {
  auto a = std::make_shared<RunOnnxArgs>();
  CLI::App* c = app.add_subcommand(
      "run-onnx",
      "Run an ONNX model (LSTM/GRU/RNN with the ops torch.onnx puts around them) on .npy inputs. "
      "A bare FILE binds inputs (outputs) in the model's order, NAME=FILE by name; int64 inputs "
      "(token ids) are read as integers.");
  c->add_option("--model", a->model, "ONNX model file")->required();
  c->add_option("--input", a->inputs, "Input .npy: FILE or NAME=FILE (repeat for several)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_option("--out", a->outputs, "Output .npy to write: FILE or NAME=FILE (repeat for several)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_flag("--list", a->list, "Print the model's inputs and outputs and stop");
  c->callback([a, &action] {
    check_usage(a->list || !a->outputs.empty(),
                "--out is required (or --list to see the model's inputs and outputs)");
    action = [a] { run(*a); };
  });
}

void add_export_onnx(CLI::App& app, Action& action) {
  auto model = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand(
      "export-onnx",
      "Write a recur model as an ONNX model (opset 14, checked by ONNX's checker): a language model "
      "(inputs tokens, h0[, c0]; outputs logits, hn[, cn]), a tagger (tokens, lengths -> logits), a "
      "classifier of any head (tokens or values, lengths -> logits) or a seq2seq model as "
      "<out>.encoder.onnx and <out>.decoder.onnx (one decoding step per call).");
  c->add_option("--model", *model, "recur model (.safetensors)")->required();
  c->add_option("--out", *out, "ONNX file to write")->required();
  c->callback([model, out, &action] {
    action = [model, out] {
      export_onnx(*model, *out);
      for (const std::string& f : export_onnx_paths(*model, *out)) std::printf("wrote %s\n", f.c_str());
    };
  });
}

}  // namespace recur::cli
