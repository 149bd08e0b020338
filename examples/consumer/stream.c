/* Streams a recurrent model one step at a time through recur's C API.
 *   recur_consumer MODEL.safetensors [STEPS]
 * An "rnn" model gets the input 0.1 * (t + 1) in every feature at step t and prints the first
 * output unit of the first sequence; an "lm" gets token ids t mod V and prints the most likely
 * next token. Then it runs the same steps as one whole sequence (rnn) and checks the two agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <recur/recur.h>

static int check(recur_status s, const char* what) {
  if (s == RECUR_OK) return 1;
  fprintf(stderr, "%s failed (%s): %s\n", what, recur_status_name(s), recur_last_error());
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.safetensors [STEPS]\n", argv[0]);
    return 2;
  }
  const int64_t steps = argc > 2 ? atoll(argv[2]) : 5;
  recur_model* model = NULL;
  if (!check(recur_model_load(argv[1], &model), "recur_model_load")) return 1;
  recur_model_info info;
  if (!check(recur_model_info_get(model, &info), "recur_model_info_get")) return 1;
  printf("recur %s: %s model, cell %s, input %lld, hidden %lld, layers %lld, output %lld\n",
         recur_version(), info.kind, info.cell, (long long)info.input_size,
         (long long)info.hidden_size, (long long)info.num_layers, (long long)info.output_size);
  int ok = 1;
  recur_stream* stream = NULL;
  if (!check(recur_stream_create(model, 1, &stream), "recur_stream_create")) return 1;
  float* out = calloc((size_t)info.output_size, sizeof(float));
  const int rnn = info.kind[0] == 'r';
  float* xs = calloc((size_t)(steps * info.input_size), sizeof(float));
  float* ys = calloc((size_t)(steps * info.output_size), sizeof(float));
  for (int64_t t = 0; t < steps && ok; ++t) {
    if (rnn) {
      for (int64_t i = 0; i < info.input_size; ++i) xs[t * info.input_size + i] = 0.1f * (float)(t + 1);
      ok = check(recur_stream_step(stream, xs + t * info.input_size, out), "recur_stream_step");
      for (int64_t j = 0; j < info.output_size; ++j) ys[t * info.output_size + j] = out[j];
      printf("step %lld: y[0] = %.6f\n", (long long)t, out[0]);
    } else {
      const int64_t token = t % info.input_size;
      ok = check(recur_stream_step_tokens(stream, &token, out), "recur_stream_step_tokens");
      int64_t best = 0;
      for (int64_t v = 1; v < info.output_size; ++v)
        if (out[v] > out[best]) best = v;
      printf("step %lld: token %lld -> most likely next %lld\n", (long long)t, (long long)token,
             (long long)best);
    }
  }
  if (ok && rnn) {  /* the whole sequence at once gives the same outputs */
    float* y = calloc((size_t)(steps * info.output_size), sizeof(float));
    ok = check(recur_model_run(model, xs, steps, 1, NULL, NULL, NULL, y, NULL, NULL), "recur_model_run");
    for (int64_t k = 0; ok && k < steps * info.output_size; ++k)
      if (fabsf(y[k] - ys[k]) > 1e-5f) {
        fprintf(stderr, "stream and whole sequence differ at %lld: %f vs %f\n", (long long)k, ys[k], y[k]);
        ok = 0;
      }
    if (ok) printf("whole sequence: equal to the stream\n");
    free(y);
  }
  /* A missing file is an error with a message, not a crash. */
  recur_model* none = NULL;
  const recur_status s = recur_model_load("no-such-model.safetensors", &none);
  printf("loading a missing file: %s (%s)\n", recur_status_name(s), recur_last_error());
  if (s != RECUR_ERROR_FILE || none != NULL) ok = 0;
  free(out);
  free(xs);
  free(ys);
  recur_stream_free(stream);
  recur_model_free(model);
  return ok ? 0 : 1;
}
