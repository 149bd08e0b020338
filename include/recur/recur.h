/* recur's C API: load a recurrent model, run whole sequences, or stream one step at a time with
 * the state kept. Plain C (C99), opaque handles, status codes; no C++ exception crosses it.
 *
 * Models. A file written by recur or a PyTorch state_dict saved as safetensors:
 *   - "rnn": a recurrent network (nn.RNN / nn.LSTM / nn.GRU names: weight_ih_l0, ...). The cell
 *     comes from the file's metadata (recur's files) or from the weights' shapes: 4H rows LSTM,
 *     3H GRU, H a tanh RNN. Input: features (B, I) per step; output: the top layer's (B, D*H).
 *   - "lm": a language model from `recur train-lm`. Input: token ids (B) per step; output: the
 *     next token's logits (B, V).
 * A model is read-only once loaded: any number of threads may use one model at once, each with
 * its own streams. A stream belongs to one thread at a time.
 *
 * Errors. Every call that can fail returns a recur_status; on failure recur_last_error() gives
 * this thread's message for it (naming the file, the tensor or the argument, and what was
 * expected). Output buffers are left untouched by a failed call.
 *
 * Layouts. Row-major float arrays: x (T,B,I) time-major, y (T,B,D*H), states (L*D,B,H) in
 * PyTorch's order (layer-major, the reverse direction after the forward one). */
#ifndef RECUR_RECUR_H
#define RECUR_RECUR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum recur_status {
  RECUR_OK = 0,
  RECUR_ERROR_ARGUMENT = 1, /* a null pointer, a size out of range, a call the model cannot take */
  RECUR_ERROR_FILE = 2,     /* a missing, unreadable, truncated or malformed model file */
  RECUR_ERROR_DATA = 3,     /* bad values in the data (NaN, a token id out of range) */
  RECUR_ERROR_MEMORY = 4,   /* out of memory */
  RECUR_ERROR_INTERNAL = 5  /* anything else (a bug: please report it with the message) */
} recur_status;

/* This thread's message for its last failed call ("" if none). Valid until its next call. */
const char* recur_last_error(void);
/* The library's version, "major.minor.patch". */
const char* recur_version(void);
/* The name of a status ("ok", "argument", "file", "data", "memory", "internal"). */
const char* recur_status_name(recur_status status);

typedef struct recur_model recur_model;
typedef struct recur_stream recur_stream;

typedef struct recur_model_info {
  const char* kind;    /* "rnn" or "lm" */
  const char* cell;    /* "lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_sigmoid", "rnn_linear" */
  const char* spec;    /* the recurrent layers as a stack spec, "lstm:256;lstm:256" (docs/rnn-spec.md) */
  int64_t input_size;  /* rnn: features per step; lm: the vocabulary size (ids in [0, V)) */
  int64_t hidden_size;
  int64_t num_layers;
  int64_t directions;  /* 1, or 2 (bidirectional: whole sequences only, no streams) */
  int64_t output_size; /* rnn: directions * hidden_size (hidden_size if summed); lm: the vocabulary */
  int has_cell_state;  /* 1 for LSTM: states have c as well as h */
} recur_model_info;

/* Loads a model file (.safetensors). *model is set only on success. */
recur_status recur_model_load(const char* path, recur_model** model);
/* A new "rnn" model from a stack spec ("lstm:256;lstm:256", docs/rnn-spec.md) on input_size
 * features, initialised as PyTorch does (uniform in +-1/sqrt(H)) from `seed`. A bad spec is
 * RECUR_ERROR_ARGUMENT, its message naming the layer and the field. */
recur_status recur_model_create(const char* spec, int64_t input_size, uint64_t seed,
                                recur_model** model);
/* Frees a model (null is fine). Its streams must be freed first. */
void recur_model_free(recur_model* model);
/* What the model takes and gives. The strings live as long as the model. */
recur_status recur_model_info_get(const recur_model* model, recur_model_info* info);

/* Whole sequences of an "rnn" model: x (T,B,I); lengths (B values in [0,T]) or null for all T;
 * h0, c0 (L*D,B,H) or null for zeros (c0 only for LSTM); y (T,B,D*H) out, zero past a sequence's
 * length; hn, cn (L*D,B,H) out or null. Thread-safe on a shared model. */
recur_status recur_model_run(const recur_model* model, const float* x, int64_t steps,
                             int64_t batch, const int64_t* lengths, const float* h0,
                             const float* c0, float* y, float* hn, float* cn);

/* A stream: batch independent sequences advanced one step at a time, starting from zero state.
 * Unidirectional models only. */
recur_status recur_stream_create(const recur_model* model, int64_t batch, recur_stream** stream);
void recur_stream_free(recur_stream* stream);
/* Back to zero state. */
recur_status recur_stream_reset(recur_stream* stream);
/* "rnn": x (B,I) in, y (B,H) out (or null). */
recur_status recur_stream_step(recur_stream* stream, const float* x, float* y);
/* "lm": tokens (B) in, logits (B,V) out (or null). */
recur_status recur_stream_step_tokens(recur_stream* stream, const int64_t* tokens, float* logits);
/* The number of floats in h (and in c, for LSTM): L*B*H. */
int64_t recur_stream_state_size(const recur_stream* stream);
/* Copies the state out: h (L,B,H), and c for LSTM (else c may be null). */
recur_status recur_stream_get_state(const recur_stream* stream, float* h, float* c);
/* Sets the state: h (L,B,H), and c for LSTM (ignored otherwise). */
recur_status recur_stream_set_state(recur_stream* stream, const float* h, const float* c);

#ifdef __cplusplus
}
#endif

#endif /* RECUR_RECUR_H */
