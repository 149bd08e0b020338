// `recur sample`: generates text from a trained language model.
#include <cstdio>

#include "commands.h"
#include "recur/models/language_model.h"

namespace recur::cli {
namespace {

struct SampleArgs {
  std::string model, prime = "\n";
  SampleOptions opt;
  uint64_t seed = 1;
};

void run(const SampleArgs& a) {
  const LanguageModel lm = load_language_model(a.model);
  RECUR_CHECK(!a.prime.empty(), "--prime must not be empty");
  // A right-to-left model reads the prime from its end and writes what comes before it.
  const std::vector<int64_t> prime = encode_in_model_order(lm, a.prime, "--prime");
  RECUR_CHECK(!prime.empty(), "--prime holds no tokens the model knows");
  Rng rng(a.seed);
  const std::vector<int64_t> out = sample_language_model(lm.net, prime, a.opt, rng);
  std::vector<int64_t> all = prime;
  all.insert(all.end(), out.begin(), out.end());
  std::printf("%s\n", decode_in_reading_order(lm, all).c_str());
}

}  // namespace

void add_sample(CLI::App& app, Action& action) {
  auto a = std::make_shared<SampleArgs>();
  CLI::App* c = app.add_subcommand("sample", "Generate text from a model trained by train-lm");
  c->add_option("--model", a->model, "Language model (.safetensors from train-lm)")->required();
  c->add_option("--prime", a->prime, "Text to start from (printed before the sample; after it for a right-to-left model)")
      ->capture_default_str();
  c->add_option("--length", a->opt.length, "Tokens to generate")->capture_default_str()->check(NonNegative);
  c->add_option("--temperature", a->opt.temperature, "Softmax temperature (> 0)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--top-k", a->opt.top_k, "Sample among the k most likely tokens only (0: all)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
