// ClassifierModel: a trained SequenceClassifier with what it needs to read raw input (the text
// encoder or the image shape) and name its classes. Saved as safetensors with the network config,
// the labels and the encoder in __metadata__ (task = "classify"). Evaluation (loss, accuracy, the
// confusion matrix) and prediction over examples.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/data/classification.h"
#include "recur/models/classifier.h"

namespace recur {

// What the network reads: token ids of text, image rows (IDX), or the user's .npy arrays.
enum class ClassifierInput { text, image_rows, arrays };
ClassifierInput parse_classifier_input(const std::string& name);  // "text", "image_rows", "arrays"
const char* classifier_input_name(ClassifierInput input);

struct ClassifierModel {
  ClassifierInput input = ClassifierInput::text;
  TextEncoder encoder;  // text input
  int64_t max_len = 0;  // text input: tokens kept per example
  LabelSet labels;
  SequenceClassifier<float> net;
};

void save_classifier_model(const std::string& path, const ClassifierModel& m,
                           const std::map<std::string, std::string>& extra = {});
ClassifierModel load_classifier_model(const std::string& path);

struct ClassifierEvaluation {
  double loss_nats = 0;
  int64_t examples = 0, correct = 0;
  std::vector<int64_t> confusion;  // (C,C): row = true class, column = predicted class
  // Two classes: each example's score for class 1 (its logit margin) and whether it is class 1;
  // empty otherwise and in a data-parallel evaluation.
  std::vector<std::pair<float, bool>> scores;
  double accuracy() const { return examples ? double(correct) / double(examples) : 0.0; }
  // The area under the ROC curve of `scores` (ties count half); NaN without scores or without
  // both classes.
  double auc() const;
  // The most frequent true class (the first of equals); *count gets its examples.
  int64_t majority_class(int64_t* count = nullptr) const;
  // The accuracy of always predicting it: the majority baseline.
  double majority_accuracy() const;
};

// Padded batches of examples (in the given order) for the network.
ClassifierBatch<float> make_classifier_batch(const std::vector<Example>& examples,
                                             const std::vector<size_t>& indices, bool dense,
                                             int64_t features);

ClassifierEvaluation evaluate_classifier(const SequenceClassifier<float>& net,
                                         const std::vector<Example>& examples, int64_t batch);

// Class probabilities (N,C) for every example. `packs`: kept packed weights to reuse (a server's,
// for weights that never change; see RnnPacks); null packs them for this call.
Tensor<float> classifier_probabilities(const SequenceClassifier<float>& net,
                                       const std::vector<Example>& examples, int64_t batch,
                                       RnnPacks* packs = nullptr);

// "accuracy", the majority baseline, AUC (two classes), per-class precision/recall/F1 and the
// confusion matrix, as aligned text.
std::string classification_report(const ClassifierEvaluation& ev, const LabelSet& labels);
// The confusion matrix as an SVG heat map, row-normalised, with the counts written in the cells.
std::string confusion_svg(const ClassifierEvaluation& ev, const LabelSet& labels,
                          const std::string& title);

}  // namespace recur
