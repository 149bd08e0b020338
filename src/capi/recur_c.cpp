// The C API (include/recur/recur.h) over the C++ library: handles own C++ objects; every entry
// point catches everything and turns it into a status and this thread's message.
#include "recur/recur.h"

#include <cmath>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "recur/core/enum_names.h"
#include "recur/io/safetensors.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"
#include "recur/layers/rnn_stream.h"
#include "recur/models/language_model.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/version.h"


struct recur_model {
  std::string kind;                      // "rnn" or "lm"
  std::string spec;                      // the recurrent stack spec (docs/rnn-spec.md)
  recur::RnnParams<float> rnn;           // "rnn"
  recur::SequenceModel<float> lm;        // "lm" (its network: embedding, lm.rnn, decoder)
  recur_model_info info{};

  const recur::RnnParams<float>& network() const { return kind == "lm" ? lm.rnn : rnn; }
};

struct recur_stream {
  const recur_model* model;
  int64_t batch;
  recur::RnnStream<float> rnn;
  recur::Tensor<float> x, h;  // lm: the embedded tokens (B,E) and the top layer's h (B,H)
};

namespace {

thread_local std::string last_error;

// A failure the C API found itself, with its status.
struct Failure {
  recur_status status;
  std::string message;
};

[[noreturn]] void fail(recur_status status, const std::string& message) {
  throw Failure{status, message};
}

// Fails with `status` and the message unless cond holds; the message is built only on failure.
#define REQUIRE(cond, status, message) \
  do {                                 \
    if (!(cond)) fail(status, message); \
  } while (0)

// Runs f, mapping what it throws to a status (recur::Error to `error_status`: the library's own
// checks, whose messages say what was wrong).
template <class F>
recur_status guarded(recur_status error_status, F&& f) {
  try {
    f();
    last_error.clear();
    return RECUR_OK;
  } catch (const Failure& e) {
    last_error = e.message;
    return e.status;
  } catch (const recur::Error& e) {
    last_error = e.what();
    return error_status;
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
    return RECUR_ERROR_MEMORY;
  } catch (const std::exception& e) {
    last_error = std::string("internal error: ") + e.what();
    return RECUR_ERROR_INTERNAL;
  } catch (...) {
    last_error = "internal error: an unknown exception";
    return RECUR_ERROR_INTERNAL;
  }
}

void require_finite(const float* p, int64_t n, const char* what) {
  for (int64_t k = 0; k < n; ++k)
    REQUIRE(std::isfinite(p[k]), RECUR_ERROR_DATA,
            std::string(what) + "[" + std::to_string(k) + "] is not finite (" +
                std::to_string(p[k]) + ")");
}

// The cell of a PyTorch state_dict without metadata, from W_hh's (G*H, H) shape.
recur::CellKind cell_from_shapes(const std::map<std::string, recur::Tensor<float>>& tensors,
                                 const std::string& path) {
  auto it = tensors.find("weight_hh_l0");
  REQUIRE(it != tensors.end(), RECUR_ERROR_FILE,
          path + ": no tensor 'weight_hh_l0'; expected a recur model or a PyTorch nn.RNN / "
                 "nn.LSTM / nn.GRU state_dict");
  const recur::Tensor<float>& w = it->second;
  REQUIRE(w.rank() == 2 && w.dim(1) > 0 && w.dim(0) % w.dim(1) == 0, RECUR_ERROR_FILE,
          path + ": weight_hh_l0 has shape " + w.shape_string() + ", expected (G*H, H)");
  switch (w.dim(0) / w.dim(1)) {
    case 4: return recur::CellKind::lstm;
    case 3: return recur::CellKind::gru;
    case 1: return recur::CellKind::rnn_tanh;
    default:
      fail(RECUR_ERROR_FILE, path + ": weight_hh_l0 has shape " + w.shape_string() +
                                 ": " + std::to_string(w.dim(0) / w.dim(1)) +
                                 " gates, expected 1 (RNN), 3 (GRU) or 4 (LSTM)");
  }
}

void fill_info(recur_model& m) {
  const recur::RnnConfig& c = m.network().config;
  // The C API's states are (layers * directions, batch, hidden) arrays, one size for every layer.
  REQUIRE(c.one_engine_segment(), RECUR_ERROR_ARGUMENT,
          "the network ('" + recur::format_rnn_spec(recur::rnn_spec_from_config(c)) +
              "') is a mixed stack or has a clockwork, skip or deep layer, which the C API does not "
              "take yet: its state arrays need one layer size on the engine");
  m.info.kind = m.kind.c_str();
  m.info.cell = recur::cell_name(c.cell);
  m.spec = recur::format_rnn_spec(recur::rnn_spec_from_config(c));
  m.info.spec = m.spec.c_str();
  m.info.hidden_size = c.hidden_size;
  m.info.num_layers = c.num_layers;
  m.info.directions = c.directions();
  m.info.has_cell_state = c.has_cell_state() ? 1 : 0;
  if (m.kind == "lm") {
    m.info.input_size = m.lm.config.vocab;
    m.info.output_size = m.lm.config.outputs;
  } else {
    m.info.input_size = c.input_size;
    m.info.output_size = c.output_size();
  }
}

constexpr recur::EnumNames<recur_status, 6> kStatusNames{{{RECUR_OK, "ok"},
                                                          {RECUR_ERROR_ARGUMENT, "argument"},
                                                          {RECUR_ERROR_FILE, "file"},
                                                          {RECUR_ERROR_DATA, "data"},
                                                          {RECUR_ERROR_MEMORY, "memory"},
                                                          {RECUR_ERROR_INTERNAL, "internal"}}};

}  // namespace

extern "C" {

const char* recur_last_error(void) { return last_error.c_str(); }

const char* recur_version(void) { return RECUR_VERSION; }

const char* recur_status_name(recur_status status) {
  return recur::enum_name(kStatusNames, status, "unknown");
}

recur_status recur_model_load(const char* path, recur_model** model) {
  return guarded(RECUR_ERROR_FILE, [&] {
    REQUIRE(path && model, RECUR_ERROR_ARGUMENT, "recur_model_load: path and model must not be null");
    auto m = std::make_unique<recur_model>();
    const recur::Safetensors<float> st = recur::load_safetensors<float>(path);
    auto task = st.metadata.find("task");
    if (task != st.metadata.end() && task->second == "lm") {
      m->kind = "lm";
      recur::LanguageModel lm = recur::load_language_model(path);
      recur::require_left_to_right(lm, path, "the C API");
      m->lm = std::move(lm.net);
    } else {
      REQUIRE(task == st.metadata.end(), RECUR_ERROR_FILE,
              std::string(path) + ": a recur '" + task->second +
                  "' model; the C API runs recurrent networks and language models");
      m->kind = "rnn";
      if (st.metadata.count("hidden_size")) {  // recur's own file: the whole configuration
        const recur::RnnConfig cfg = recur::RnnConfig::from_metadata(st.metadata);
        recur::check_parameter_count(recur::parameter_count(cfg), st.tensors, path);
        m->rnn = recur::RnnParams<float>(cfg);
        m->rnn.load_state_dict(st.tensors, path);
      } else {  // a PyTorch state_dict
        for (const auto& [name, t] : st.tensors)
          recur::check_finite(t, std::string(path) + " tensor '" + name + "'");
        m->rnn = recur::params_from_named(cell_from_shapes(st.tensors, path), st.tensors, path);
      }
    }
    fill_info(*m);
    *model = m.release();
  });
}

recur_status recur_model_create(const char* spec, int64_t input_size, uint64_t seed,
                                recur_model** model) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(spec && model, RECUR_ERROR_ARGUMENT, "recur_model_create: spec and model must not be null");
    REQUIRE(input_size > 0, RECUR_ERROR_ARGUMENT,
            "recur_model_create: input_size must be positive, got " + std::to_string(input_size));
    auto m = std::make_unique<recur_model>();
    m->kind = "rnn";
    m->rnn = recur::RnnParams<float>(
        recur::rnn_config_from_spec(recur::parse_rnn_spec(spec), input_size));
    recur::Rng rng(seed);
    recur::init_rnn(m->rnn, rng, recur::RecurrentInit::uniform);
    fill_info(*m);
    *model = m.release();
  });
}

void recur_model_free(recur_model* model) { delete model; }

recur_status recur_model_info_get(const recur_model* model, recur_model_info* info) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(model && info, RECUR_ERROR_ARGUMENT, "recur_model_info_get: null argument");
    *info = model->info;
  });
}

recur_status recur_model_run(const recur_model* model, const float* x, int64_t steps,
                             int64_t batch, const int64_t* lengths, const float* h0,
                             const float* c0, float* y, float* hn, float* cn) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(model && x && y, RECUR_ERROR_ARGUMENT, "recur_model_run: model, x and y must not be null");
    REQUIRE(model->kind == "rnn", RECUR_ERROR_ARGUMENT,
            "recur_model_run: a language model takes tokens; use a stream (recur_stream_step_tokens)");
    REQUIRE(steps > 0 && batch > 0, RECUR_ERROR_ARGUMENT,
            "recur_model_run: steps and batch must be positive, got " + std::to_string(steps) +
                " and " + std::to_string(batch));
    const recur::RnnConfig& c = model->rnn.config;
    const int64_t LD = int64_t(c.num_layers) * c.directions(), H = c.hidden_size;
    REQUIRE(c0 == nullptr || c.has_cell_state(), RECUR_ERROR_ARGUMENT,
            "recur_model_run: c0 is for LSTM models only");
    recur::Tensor<float> xt({steps, batch, c.input_size});
    std::copy_n(x, xt.numel(), xt.ptr());
    require_finite(xt.ptr(), xt.numel(), "x");
    std::vector<int64_t> len;
    if (lengths) {
      len.assign(lengths, lengths + batch);
      for (int64_t b = 0; b < batch; ++b)
        REQUIRE(len[size_t(b)] >= 0 && len[size_t(b)] <= steps, RECUR_ERROR_ARGUMENT,
                "lengths[" + std::to_string(b) + "] = " + std::to_string(len[size_t(b)]) +
                    " is outside [0, " + std::to_string(steps) + "]");
    }
    std::optional<recur::RnnState<float>> init;
    if (h0 || c0) {
      init.emplace();
      init->h = recur::Tensor<float>({LD, batch, H});
      if (h0) std::copy_n(h0, init->h.numel(), init->h.ptr());
      if (c.has_cell_state()) {
        init->c = recur::Tensor<float>({LD, batch, H});
        if (c0) std::copy_n(c0, init->c.numel(), init->c.ptr());
      }
      require_finite(init->h.ptr(), init->h.numel(), "h0");
      require_finite(init->c.ptr(), init->c.numel(), "c0");
    }
    recur::Tensor<float> out;
    recur::RnnState<float> fin;
    recur::RnnCache<float> cache;
    recur::rnn_forward(out, fin, cache, model->rnn, xt, len, init ? &*init : nullptr,
                       recur::RnnRunOptions().with_inference(true));
    std::copy_n(out.ptr(), out.numel(), y);
    if (hn) std::copy_n(fin.h.ptr(), fin.h.numel(), hn);
    if (cn && c.has_cell_state()) std::copy_n(fin.c.ptr(), fin.c.numel(), cn);
  });
}

recur_status recur_stream_create(const recur_model* model, int64_t batch, recur_stream** stream) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(model && stream, RECUR_ERROR_ARGUMENT, "recur_stream_create: null argument");
    REQUIRE(batch > 0, RECUR_ERROR_ARGUMENT,
            "recur_stream_create: batch must be positive, got " + std::to_string(batch));
    REQUIRE(model->info.directions == 1, RECUR_ERROR_ARGUMENT,
            "recur_stream_create: a bidirectional model needs the whole sequence; use recur_model_run");
    const recur::RnnParams<float>& net = model->network();
    auto s = std::unique_ptr<recur_stream>(new recur_stream{
        model, batch, recur::RnnStream<float>(net, batch), {}, {}});
    if (model->kind == "lm") {
      s->x = recur::Tensor<float>({batch, model->lm.config.embed});
      s->h = recur::Tensor<float>({batch, net.config.hidden_size});
    }
    *stream = s.release();
  });
}

void recur_stream_free(recur_stream* stream) { delete stream; }

recur_status recur_stream_reset(recur_stream* stream) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(stream, RECUR_ERROR_ARGUMENT, "recur_stream_reset: null stream");
    stream->rnn.reset(nullptr);
  });
}

recur_status recur_stream_step(recur_stream* stream, const float* x, float* y) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(stream && x, RECUR_ERROR_ARGUMENT, "recur_stream_step: stream and x must not be null");
    REQUIRE(stream->model->kind == "rnn", RECUR_ERROR_ARGUMENT,
            "recur_stream_step: a language model takes tokens; use recur_stream_step_tokens");
    require_finite(x, stream->batch * stream->model->info.input_size, "x");
    stream->rnn.step(x, y);
  });
}

recur_status recur_stream_step_tokens(recur_stream* stream, const int64_t* tokens, float* logits) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(stream && tokens, RECUR_ERROR_ARGUMENT,
            "recur_stream_step_tokens: stream and tokens must not be null");
    const recur_model& m = *stream->model;
    REQUIRE(m.kind == "lm", RECUR_ERROR_ARGUMENT,
            "recur_stream_step_tokens: this model takes features; use recur_stream_step");
    const recur::SequenceModelConfig& c = m.lm.config;
    const int64_t B = stream->batch;
    for (int64_t b = 0; b < B; ++b)
      REQUIRE(tokens[b] >= 0 && tokens[b] < c.vocab, RECUR_ERROR_DATA,
              "tokens[" + std::to_string(b) + "] = " + std::to_string(tokens[b]) +
                  " is outside the vocabulary [0, " + std::to_string(c.vocab) + ")");
    recur::embedding_forward(stream->x.ptr(), tokens, m.lm.embedding.ptr(), B, c.vocab, c.embed);
    stream->rnn.step(stream->x.ptr(), stream->h.ptr());
    if (logits)
      recur::linear_forward(logits, stream->h.ptr(), m.lm.w_out.ptr(), m.lm.b_out.ptr(), B,
                            m.lm.w_out.dim(1), c.outputs);
  });
}

int64_t recur_stream_state_size(const recur_stream* stream) {
  return stream ? stream->rnn.state().h.numel() : 0;
}

recur_status recur_stream_get_state(const recur_stream* stream, float* h, float* c) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(stream && h, RECUR_ERROR_ARGUMENT, "recur_stream_get_state: stream and h must not be null");
    const recur::RnnState<float>& s = stream->rnn.state();
    REQUIRE(c || s.c.empty(), RECUR_ERROR_ARGUMENT,
            "recur_stream_get_state: an LSTM's state has c as well: c must not be null");
    std::copy_n(s.h.ptr(), s.h.numel(), h);
    if (c && !s.c.empty()) std::copy_n(s.c.ptr(), s.c.numel(), c);
  });
}

recur_status recur_stream_set_state(recur_stream* stream, const float* h, const float* c) {
  return guarded(RECUR_ERROR_ARGUMENT, [&] {
    REQUIRE(stream && h, RECUR_ERROR_ARGUMENT, "recur_stream_set_state: stream and h must not be null");
    const recur::RnnState<float>& cur = stream->rnn.state();
    REQUIRE(c || cur.c.empty(), RECUR_ERROR_ARGUMENT,
            "recur_stream_set_state: an LSTM's state has c as well: c must not be null");
    recur::RnnState<float> s{recur::Tensor<float>(cur.h.shape),
                             cur.c.empty() ? recur::Tensor<float>() : recur::Tensor<float>(cur.c.shape)};
    std::copy_n(h, s.h.numel(), s.h.ptr());
    if (!cur.c.empty()) std::copy_n(c, s.c.numel(), s.c.ptr());
    require_finite(s.h.ptr(), s.h.numel(), "h");
    require_finite(s.c.ptr(), s.c.numel(), "c");
    stream->rnn.reset(&s);
  });
}

}  // extern "C"
