// ONNX models out: recur's language models, taggers, classifiers and seq2seq models as ONNX graphs of
// standard ops (opset 14): Gather for the embedding, one LSTM/GRU/RNN op per layer (gates
// reordered to ONNX's i,o,f,c and z,r,h; biases as [Wb; Rb]), Transpose + Reshape between layers,
// MatMul/Gemm + Add for the head. The graph is checked with ONNX's own checker before it is
// written, and written atomically.
#include <onnx/onnx_pb.h>

#include <fstream>

#include "onnx/graph_builder.h"
#include "onnx/ops.h"
#include "recur/io/file.h"
#include "recur/io/onnx.h"
#include "recur/layers/rnn_spec.h"
#include "recur/io/safetensors.h"
#include "recur/models/classifier_model.h"
#include "recur/train/clm_trainer.h"
#include "recur/models/forecaster_model.h"
#include "recur/models/language_model.h"
#include "recur/models/seq2seq_model.h"
#include "recur/models/tagger_model.h"

namespace recur {
namespace {

using namespace onnx_export;

// A seq2seq model as two graphs, as Marian and other toolkits export them (docs/embedding.md):
//   encoder: source (S,B), source_lengths (B) -> memory (S,B,De), keys (S,B,A), mask (S,B)
//            (0 within a source, -1e9 past it), h0 (and c0) (Ld,B,Hd), feed (B,F) [a fixed context
//            fed as input, or input feeding's o_0 = 0]
//   decoder: token (B), h, (c), feed [as above], memory, keys, mask [attention]
//            -> logits (B,Vt), h_next, (c_next), feed_next [as above]
// One decoder call is one step: feed token 0 (BOS) and the encoder's state first, then each next
// token with the previous step's h_next / c_next / feed_next.
void export_seq2seq(const std::string& model_path, const std::string& encoder_path,
                    const std::string& decoder_path) {
  const Seq2SeqModel sm = load_seq2seq_model(model_path);
  const Seq2Seq<float>& m = sm.net;
  const Seq2SeqConfig& c = m.config;
  check_exportable(c.encoder, model_path);
  check_exportable(c.decoder, model_path, true);
  const int64_t De = c.encoder_width();
  const int64_t Hd = c.decoder.hidden_size, Ld = c.decoder.num_layers, F = c.feed_width();
  const bool lstm = c.decoder.has_cell_state();
  const std::string sDe = std::to_string(De), sHd = std::to_string(Hd), sLd = std::to_string(Ld);
  const std::string sA = std::to_string(c.attention() ? c.key_width() : De), sF = std::to_string(F);

  // ---- The encoder ----
  onnx::ModelProto enc = new_model("recur_seq2seq_encoder");
  {
    Builder b(enc.mutable_graph());
    b.input("source", onnx::TensorProto::INT64, {"S", "B"});
    b.input("source_lengths", onnx::TensorProto::INT64, {"B"});
    const std::string lengths = b.node("Cast", {"source_lengths"}, 1, [](onnx::NodeProto& n) {
      attr_i(n, "to", onnx::TensorProto::INT32);
    })[0];
    const std::string x = b.node("Gather", {b.floats("encoder.embedding.weight", m.source_embedding.shape,
                                                     m.source_embedding.data), "source"}, 1)[0];
    const StackOut s = recurrent_stack(b, m.encoder, "encoder.rnn.", x, "", "", lengths);
    b.as_output(s.y, "memory", {"S", "B", sDe});
    const std::string summary = top_summary(b, s, m.config.encoder, "summary");  // h_N (B,De)
    const std::string keys = m.w_key.empty() ? s.y : linear(b, s.y, m.w_key, Tensor<float>(), "attention.key");
    b.as_output(keys, "keys", {"S", "B", sA});
    // mask (S,B): (position < length ? 0 : -1e9)
    const std::string shape = b.node("Shape", {"source"}, 1)[0];
    const std::string S = b.node("Gather", {shape, b.ints("zero", {0}, true)}, 1)[0];
    const std::string B = b.node("Gather", {shape, b.ints("one", {1}, true)}, 1)[0];
    const std::string pos = b.node("Range", {b.ints("range.start", {0}, true), S, b.ints("range.step", {1}, true)}, 1)[0];
    const std::string col = b.node("Unsqueeze", {pos, b.ints("axis1", {1})}, 1)[0];
    const std::string inside = b.node("Less", {col, "source_lengths"}, 1)[0];
    const std::string f = b.node("Cast", {inside}, 1, [](onnx::NodeProto& n) { attr_i(n, "to", onnx::TensorProto::FLOAT); })[0];
    const std::string off = b.node("Sub", {f, b.floats("one_f", {}, {1.0f})}, 1)[0];
    b.as_output(b.node("Mul", {off, b.floats("big", {}, {1e9f})}, 1)[0], "mask", {"S", "B"});
    // Zeros of (n, B, k) and (B, k) for states and feeds that start empty.
    const std::string B1 = b.node("Unsqueeze", {B, b.ints("axis0", {0})}, 1)[0];
    auto zeros = [&](std::vector<std::string> dims_before_after) {
      return b.node("ConstantOfShape", {concat(b, dims_before_after, 0)}, 1)[0];
    };
    std::string start;  // (B,Hd): what every decoder layer starts from, or "" for zeros
    if (c.has_bridge()) start = b.node("Tanh", {gemm_t(b, summary, m.w_bridge, m.b_bridge, "bridge")}, 1)[0];
    else if (c.context == ContextKind::last) start = summary;
    if (!start.empty() && c.uses_init()) {
      const std::string one = b.node("Unsqueeze", {start, b.ints("axis0b", {0})}, 1)[0];
      b.as_output(concat(b, std::vector<std::string>(size_t(Ld), one), 0), "h0", {sLd, "B", sHd});
    } else {
      b.as_output(zeros({b.ints("Ld", {Ld}), B1, b.ints("Hd", {Hd})}), "h0", {sLd, "B", sHd});
    }
    if (lstm) b.as_output(zeros({b.ints("Ld_c", {Ld}), B1, b.ints("Hd_c", {Hd})}), "c0", {sLd, "B", sHd});
    if (F > 0 && c.context != ContextKind::bahdanau) {  // bahdanau's feed is its context, made per step
      if (c.input_feeding()) b.as_output(zeros({B1, b.ints("Hd_f", {Hd})}), "feed", {"B", sF});
      else b.as_output(start, "feed", {"B", sF});
    }
  }

  // ---- One decoder step ----
  onnx::ModelProto dec = new_model("recur_seq2seq_decoder_step");
  {
    Builder b(dec.mutable_graph());
    b.input("token", onnx::TensorProto::INT64, {"B"});
    b.input("h", onnx::TensorProto::FLOAT, {sLd, "B", sHd});
    if (lstm) b.input("c", onnx::TensorProto::FLOAT, {sLd, "B", sHd});
    if (F > 0 && c.context != ContextKind::bahdanau) b.input("feed", onnx::TensorProto::FLOAT, {"B", sF});
    if (c.attention()) {
      b.input("memory", onnx::TensorProto::FLOAT, {"S", "B", sDe});
      b.input("keys", onnx::TensorProto::FLOAT, {"S", "B", sA});
      b.input("mask", onnx::TensorProto::FLOAT, {"S", "B"});
    }
    // Attention for query q (B,Q): scores (S,B) over the keys, softmax over S within the source,
    // context (B,De) = sum_i a_i memory_i.
    auto attend = [&](const std::string& q) {
      std::string scores;
      if (c.context == ContextKind::bahdanau) {
        const int64_t A = m.w_query.dim(0);
        const std::string qp = linear(b, q, m.w_query, Tensor<float>(), "attention.query");
        const std::string u = b.node("Tanh", {b.node("Add", {"keys", qp}, 1)[0]}, 1)[0];
        const std::string e = b.node("MatMul", {u, b.floats("attention.v", {A, 1}, m.v_attention.data)}, 1)[0];
        scores = b.node("Squeeze", {e, b.ints("axis2", {2})}, 1)[0];
      } else {
        const std::string prod = b.node("Mul", {"keys", q}, 1)[0];
        scores = b.node("ReduceSum", {prod, b.ints("axis2r", {2})}, 1, [](onnx::NodeProto& n) { attr_i(n, "keepdims", 0); })[0];
      }
      const std::string masked = b.node("Add", {scores, "mask"}, 1)[0];
      const std::string alpha = b.node("Softmax", {masked}, 1, [](onnx::NodeProto& n) { attr_i(n, "axis", 0); })[0];
      const std::string a3 = b.node("Unsqueeze", {alpha, b.ints("axis2u", {2})}, 1)[0];
      const std::string weighted = b.node("Mul", {a3, "memory"}, 1)[0];
      return b.node("ReduceSum", {weighted, b.ints("axis0r", {0})}, 1, [](onnx::NodeProto& n) { attr_i(n, "keepdims", 0); })[0];
    };
    std::string feed = F > 0 && c.context != ContextKind::bahdanau ? "feed" : "";
    if (c.context == ContextKind::bahdanau) {
      const std::string top = b.node("Gather", {"h", b.ints("top", {Ld - 1}, true)}, 1)[0];
      feed = attend(top);
    }
    const std::string e = b.node("Gather", {b.floats("decoder.embedding.weight", m.target_embedding.shape,
                                                     m.target_embedding.data), "token"}, 1)[0];
    const std::string xin = feed.empty() ? e : concat(b, {e, feed}, 1);
    const std::string x = b.node("Unsqueeze", {xin, b.ints("axis0", {0})}, 1)[0];
    const StackOut s = recurrent_stack(b, m.decoder, "decoder.rnn.", x, "h", lstm ? "c" : "", "");
    const std::string st = b.node("Squeeze", {s.y, b.ints("axis0s", {0})}, 1)[0];
    std::string o = st;
    if (c.attention()) {
      const std::string ctx = c.context == ContextKind::bahdanau ? feed : attend(st);
      o = b.node("Tanh", {gemm_t(b, concat(b, {st, ctx}, 1), m.w_combine, m.b_combine, "attention.combine")}, 1)[0];
    }
    b.as_output(gemm_t(b, o, m.w_out, m.b_out, "decoder.out"), "logits", {"B", std::to_string(c.target_vocab)});
    b.as_output(concat(b, s.yh), "h_next", {sLd, "B", sHd});
    if (lstm) b.as_output(concat(b, s.yc), "c_next", {sLd, "B", sHd});
    if (F > 0 && c.context != ContextKind::bahdanau)
      b.as_output(c.input_feeding() ? o : std::string("feed"), "feed_next", {"B", sF});
  }
  check_and_write(enc, encoder_path, model_path);
  check_and_write(dec, decoder_path, model_path);
}

// A forecaster in the data's units (the z-score normalisation fitted in training is part of the
// graph):
//   direct:    window (W,B,I) -> forecast (B,H,K)
//   recursive: one step, x (B,I), h (and c) (L,B,Hd) -> next (B,I), h_next (, c_next); feed the
//              window's rows, then each prediction back, H times
void export_forecaster(const std::string& model_path, onnx::ModelProto& model) {
  const ForecasterModel fm = load_forecaster_model(model_path);
  const Forecaster<float>& net = fm.net;
  const ForecasterConfig& c = net.config;
  check_exportable(c.rnn, model_path, true);
  Builder b(model.mutable_graph());
  const int64_t I = c.inputs(), Hd = c.rnn.hidden_size, L = c.rnn.num_layers;
  const bool lstm = c.rnn.has_cell_state();
  auto stats = [&](const std::vector<int64_t>& cols, bool mean) {
    std::vector<float> v;
    for (int64_t col : cols) v.push_back(float(mean ? fm.norm.mean[size_t(col)] : fm.norm.std[size_t(col)]));
    return v;
  };
  const std::vector<int64_t> in_cols = fm.inputs();
  const std::string mean_in = b.floats("norm.input_mean", {I}, stats(in_cols, true));
  const std::string std_in = b.floats("norm.input_std", {I}, stats(in_cols, false));
  auto normalise = [&](const std::string& x) { return b.node("Div", {b.node("Sub", {x, mean_in}, 1)[0], std_in}, 1)[0]; };
  const std::string sI = std::to_string(I), sHd = std::to_string(Hd), sL = std::to_string(L);
  if (c.strategy == ForecastStrategy::direct) {
    const int64_t H = c.horizon, K = c.targets;
    b.input("window", onnx::TensorProto::FLOAT, {std::to_string(fm.window), "B", sI});
    const std::string xn = normalise("window");
    const StackOut s = recurrent_stack(b, net.rnn, "rnn.", xn, "", "", "");
    const std::string last = b.node("Gather", {s.y, b.ints("last", {-1}, true)}, 1)[0];
    const std::string flat = gemm_t(b, last, net.w_out, net.b_out, "head");
    std::string pred = b.node("Reshape", {flat, b.ints("pred.shape", {0, H, K})}, 1)[0];
    if (c.residual) {  // + the last observed value of each target, normalised
      const std::string xl = b.node("Gather", {xn, b.ints("last_x", {-1}, true)}, 1)[0];
      const std::string xt = b.node("Gather", {xl, b.ints("target_inputs", c.target_inputs)}, 1,
                                    [](onnx::NodeProto& n) { attr_i(n, "axis", 1); })[0];
      pred = b.node("Add", {pred, b.node("Unsqueeze", {xt, b.ints("axis1", {1})}, 1)[0]}, 1)[0];
    }
    const std::string scaled = b.node("Mul", {pred, b.floats("norm.target_std", {K}, stats(fm.targets, false))}, 1)[0];
    b.as_output(b.node("Add", {scaled, b.floats("norm.target_mean", {K}, stats(fm.targets, true))}, 1)[0],
                "forecast", {"B", std::to_string(H), std::to_string(K)});
  } else {
    b.input("x", onnx::TensorProto::FLOAT, {"B", sI});
    b.input("h", onnx::TensorProto::FLOAT, {sL, "B", sHd});
    if (lstm) b.input("c", onnx::TensorProto::FLOAT, {sL, "B", sHd});
    const std::string xn = normalise("x");
    const std::string x3 = b.node("Unsqueeze", {xn, b.ints("axis0", {0})}, 1)[0];
    const StackOut s = recurrent_stack(b, net.rnn, "rnn.", x3, "h", lstm ? "c" : "", "");
    const std::string o = b.node("Squeeze", {s.y, b.ints("axis0s", {0})}, 1)[0];
    std::string pred = gemm_t(b, o, net.w_out, net.b_out, "head");
    if (c.residual) pred = b.node("Add", {pred, xn}, 1)[0];
    b.as_output(b.node("Add", {b.node("Mul", {pred, std_in}, 1)[0], mean_in}, 1)[0], "next", {"B", sI});
    b.as_output(concat(b, s.yh), "h_next", {sL, "B", sHd});
    if (lstm) b.as_output(concat(b, s.yc), "c_next", {sL, "B", sHd});
  }
}

// A conditional byte LM: tokens (T,B) (bytes, 256 = BOS), condition (B), h (and c) (L,B,H) ->
// logits (T,B,258), h_next (, c_next); h_init (L,B,H) = tanh(W_init[condition]), the state to start
// from (modes init and both; zeros otherwise); stop (T,B) = the stop probability after each token
// (ending stop) or length (B) = the predicted ln(1 + n) after the first token (ending length).
// A classifier: tokens or values with their lengths in, logits (B, C) out, every head.
void export_classifier(const std::string& model_path, onnx::ModelProto& model) {
  Builder b(model.mutable_graph());
  const ClassifierModel cm = load_classifier_model(model_path);
  const ClassifierConfig& cc = cm.net.config;
  check_exportable(cc.rnn, model_path);
  std::string x;
  if (cc.tokens()) {
    b.input("tokens", onnx::TensorProto::INT64, {"T", "B"});
    x = embed(b, cm.net.embedding, "tokens");
  } else {
    b.input("values", onnx::TensorProto::FLOAT, {"T", "B", std::to_string(cc.features)});
    x = "values";
  }
  b.input("lengths", onnx::TensorProto::INT64, {"B"});
  const std::string lengths =
      b.node("Cast", {"lengths"}, 1, [](onnx::NodeProto& n) { attr_i(n, "to", onnx::TensorProto::INT32); })[0];
  const StackOut s = recurrent_stack(b, cm.net.rnn, "rnn.", x, "", "", lengths);
  // valid (T,B,1): 1 within each sequence's length, 0 past it.
  auto valid = [&]() {
    const std::string T = b.node("Gather", {b.node("Shape", {x}, 1)[0], b.ints("zero", {0}, true)}, 1)[0];
    const std::string pos = b.node("Range", {b.ints("range.start", {0}, true), T, b.ints("range.step", {1}, true)}, 1)[0];
    const std::string col = b.node("Unsqueeze", {pos, b.ints("axis1", {1})}, 1)[0];
    const std::string in = b.node("Cast", {b.node("Less", {col, "lengths"}, 1)[0]}, 1, [](onnx::NodeProto& n) {
      attr_i(n, "to", onnx::TensorProto::FLOAT);
    })[0];
    return b.node("Unsqueeze", {in, b.ints("axis2", {2})}, 1)[0];
  };
  // The maximum of v (T,B,W) over each sequence's own steps.
  auto masked_max = [&](const std::string& v) {
    const std::string off = b.node("Mul", {b.node("Sub", {valid(), b.floats("one_f", {}, {1.0f})}, 1)[0],
                                            b.floats("big", {}, {1e9f})}, 1)[0];
    return b.node("ReduceMax", {b.node("Add", {v, off}, 1)[0]}, 1, [](onnx::NodeProto& n) {
      attr_ints(n, "axes", {0});
      attr_i(n, "keepdims", 0);
    })[0];
  };
  std::string feats;
  if (cc.head == ClassifierHead::pool && cc.pooling == Pooling::last) {
    feats = top_summary(b, s, cc.rnn, "head");
  } else if (cc.head == ClassifierHead::pool && cc.pooling == Pooling::mean) {
    const std::string sum = b.node("ReduceSum", {b.node("Mul", {s.y, valid()}, 1)[0], b.ints("axis0", {0})}, 1,
                                   [](onnx::NodeProto& n) { attr_i(n, "keepdims", 0); })[0];
    const std::string n = b.node("Cast", {b.node("Unsqueeze", {"lengths", b.ints("axis1b", {1})}, 1)[0]}, 1,
                                 [](onnx::NodeProto& p) { attr_i(p, "to", onnx::TensorProto::FLOAT); })[0];
    feats = b.node("Div", {sum, n}, 1)[0];
  } else if (cc.head == ClassifierHead::pool) {
    feats = masked_max(s.y);
  } else if (cc.head == ClassifierHead::textrnn2) {
    check_exportable(cm.net.top.config, model_path);
    const StackOut top = recurrent_stack(b, cm.net.top, "top.", s.y, "", "", lengths);
    feats = top_summary(b, top, cm.net.top.config, "top");
  } else {  // rcnn: z = tanh(W_p [y_t; x_t] + b_p), max over the steps
    const std::string u = concat(b, {s.y, x}, 2);
    feats = masked_max(b.node("Tanh", {linear(b, u, cm.net.w_proj, cm.net.b_proj, "proj")}, 1)[0]);
  }
  if (cc.dense > 0) feats = b.node("Relu", {linear(b, feats, cm.net.w_dense, cm.net.b_dense, "dense")}, 1)[0];
  std::string logits = linear(b, feats, cm.net.w_out, cm.net.b_out, "classifier");
  if (cc.output == ClassifierOutput::sigmoid)  // (0, z): softmax gives (1 - sigmoid(z), sigmoid(z))
    logits = concat(b, {b.node("Mul", {logits, b.floats("zero_f", {}, {0.0f})}, 1)[0], logits}, 1);
  b.as_output(logits, "logits", {"B", std::to_string(cc.classes)});
}

void export_conditional_lm(const std::string& model_path, onnx::ModelProto& model) {
  const ConditionalTextModel tm = load_conditional_text_model(model_path);
  const ConditionalLm<float>& m = tm.net;
  const ConditionalLmConfig& c = m.config;
  check_exportable(c.rnn, model_path, true);
  RECUR_CHECK(c.mode != ConditionMode::first && c.time_input == TimeInput::none,
              model_path << ": " << (c.mode == ConditionMode::first ? "condition mode 'first'" : "a time input")
                         << " is not exported: the graph runs a window at a time and does not "
                            "know the step's place in the text");
  Builder b(model.mutable_graph());
  const int64_t H = c.rnn.hidden_size, L = c.rnn.num_layers;
  const bool lstm = c.rnn.has_cell_state();
  const std::string sL = std::to_string(L), sH = std::to_string(H);
  b.input("tokens", onnx::TensorProto::INT64, {"T", "B"});
  if (c.vectors)
    b.input("condition", onnx::TensorProto::FLOAT, {"B", std::to_string(c.conditions)});
  else
    b.input("condition", onnx::TensorProto::INT64, {"B"});
  // The condition's projection by W (K, width): a class's row, or a vector times W.
  auto project = [&](const char* name, const Tensor<float>& w) {
    const std::string weight = b.floats(name, w.shape, w.data);
    return c.vectors ? b.node("MatMul", {"condition", weight}, 1)[0]
                     : b.node("Gather", {weight, "condition"}, 1)[0];
  };
  b.input("h", onnx::TensorProto::FLOAT, {sL, "B", sH});
  if (lstm) b.input("c", onnx::TensorProto::FLOAT, {sL, "B", sH});
  std::string x = b.node("Gather", {b.floats("embedding.weight", m.embedding.shape, m.embedding.data), "tokens"}, 1)[0];
  if (c.uses_input()) {  // [embed(token); E_cond[k]] at every step: the condition's row repeated over T
    const std::string e = project("cond.weight", m.cond_embedding);
    const std::string T = b.node("Gather", {b.node("Shape", {"tokens"}, 1)[0], b.ints("zero", {0}, true)}, 1)[0];
    const std::string shape = concat(b, {b.node("Unsqueeze", {T, b.ints("axis0", {0})}, 1)[0],
                                         b.ints("ones", {1, 1})});
    const std::string rep = b.node("Tile", {b.node("Unsqueeze", {e, b.ints("axis0e", {0})}, 1)[0], shape}, 1)[0];
    x = concat(b, {x, rep}, 2);
  }
  const StackOut s = recurrent_stack(b, m.rnn, "rnn.", x, "h", lstm ? "c" : "", "");
  b.as_output(linear(b, s.y, m.w_out, m.b_out, "decoder"), "logits", {"T", "B", std::to_string(c.kVocab)});
  b.as_output(concat(b, s.yh), "h_next", {sL, "B", sH});
  if (lstm) b.as_output(concat(b, s.yc), "c_next", {sL, "B", sH});
  if (c.uses_init()) {
    const std::string w = project("init.weight", m.cond_init);
    const std::string blh = b.node("Reshape", {b.node("Tanh", {w}, 1)[0], b.ints("init.shape", {0, L, H})}, 1)[0];
    b.as_output(b.node("Transpose", {blh}, 1, [](onnx::NodeProto& n) { attr_ints(n, "perm", {1, 0, 2}); })[0],
                "h_init", {sL, "B", sH});
  }
  if (c.ending != SequenceEnding::eos) {  // w_end . h_t + b_end
    const std::string z = b.node("Add", {b.node("MatMul", {s.y, b.floats("end.weight", {H, 1}, m.w_end.data)}, 1)[0],
                                         b.floats("end.bias", {1}, m.b_end.data)}, 1)[0];
    const std::string z2 = b.node("Squeeze", {z, b.ints("axis2", {2})}, 1)[0];
    if (c.ending == SequenceEnding::stop)
      b.as_output(b.node("Sigmoid", {z2}, 1)[0], "stop", {"T", "B"});
    else
      b.as_output(b.node("Gather", {z2, b.ints("first", {0}, true)}, 1)[0], "length", {"B"});
  }
}

}  // namespace

std::vector<std::string> export_onnx_paths(const std::string& model_path, const std::string& out_path) {
  const Safetensors<float> st = load_safetensors<float>(model_path);
  auto it = st.metadata.find("task");
  if (it == st.metadata.end() || it->second != "seq2seq") return {out_path};
  std::string stem = out_path;
  if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".onnx") stem.resize(stem.size() - 5);
  return {stem + ".encoder.onnx", stem + ".decoder.onnx"};
}

void export_onnx(const std::string& model_path, const std::string& out_path) {
  const Safetensors<float> st = load_safetensors<float>(model_path);
  auto task_it = st.metadata.find("task");
  const std::string task = task_it == st.metadata.end() ? "" : task_it->second;
  if (task == "seq2seq") {
    const auto paths = export_onnx_paths(model_path, out_path);
    return export_seq2seq(model_path, paths[0], paths[1]);
  }
  onnx::ModelProto model = new_model("recur_" + (task.empty() ? std::string("model") : task));
  onnx::GraphProto* g = model.mutable_graph();
  Builder b(g);
  auto note = [&](const std::string& k, const std::string& v) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  note("task", task);
  if (task == "lm" || task == "tag") {
    auto lm_net = [&] {
      LanguageModel lm = load_language_model(model_path);
      require_left_to_right(lm, model_path, "export-onnx");
      return std::move(lm.net);
    };
    const SequenceModel<float> net = task == "lm" ? lm_net() : load_tagger_model(model_path).net;
    const RnnConfig& c = net.config.rnn;
    check_exportable(c, model_path, task == "lm");
    const std::string LD = std::to_string(c.num_layers * c.directions()), H = std::to_string(c.hidden_size);
    b.input("tokens", onnx::TensorProto::INT64, {"T", "B"});
    std::string h0, c0, lengths;
    if (task == "lm") {  // a language model carries its state from window to window
      h0 = "h0";
      b.input(h0, onnx::TensorProto::FLOAT, {LD, "B", H});
      if (c.has_cell_state()) {
        c0 = "c0";
        b.input(c0, onnx::TensorProto::FLOAT, {LD, "B", H});
      }
    } else {  // a tagger runs padded batches
      b.input("lengths", onnx::TensorProto::INT64, {"B"});
      lengths = b.node("Cast", {"lengths"}, 1, [](onnx::NodeProto& n) { attr_i(n, "to", onnx::TensorProto::INT32); })[0];
    }
    const StackOut s = recurrent_stack(b, net.rnn, "rnn.", embed(b, net.embedding, "tokens"), h0, c0, lengths);
    b.as_output(linear(b, s.y, net.w_out, net.b_out, "decoder"), "logits",
                {"T", "B", std::to_string(net.config.outputs)});
    if (task == "lm") {
      b.as_output(concat(b, s.yh), "hn", {LD, "B", H});
      if (c.has_cell_state()) b.as_output(concat(b, s.yc), "cn", {LD, "B", H});
    }
    note("vocab", st.metadata.count("vocab") ? st.metadata.at("vocab") : "");
  } else if (task == "classify") {
    export_classifier(model_path, model);
  } else if (task == "forecast") {
    export_forecaster(model_path, model);
  } else if (task == "conditional-lm") {
    export_conditional_lm(model_path, model);
  } else {
    RECUR_FAIL(model_path << ": ONNX export covers recur's language models (task lm), taggers (tag), "
                             "classifiers (classify), forecasters (forecast), conditional LMs (conditional-lm) and seq2seq "
                             "models; this file's task is '"
                          << task << "'");
  }
  check_and_write(model, out_path, model_path);
}

}  // namespace recur
