#pragma once
// Adapts bcd::Classifier (libtorch) to the server's ModelBackend.

#include <string>

#include "model/classifier.h"
#include "serve/server.h"

namespace bcd::serve {

/// Loads the model directory and describes it for GET /v1/model: labels, input
/// size, architecture, parameter count, preprocessing, and README.md (the model
/// card) when the directory has one. The name is config.json's _name_or_path,
/// else the folder name; the revision is a hash of model.safetensors, so two
/// servers answering with the same revision run the same weights.
/// Throws ModelError as Classifier::load does.
ModelBackend load_classifier_backend(const std::string& model_dir,
                                     const ClassifierOptions& options);

/// FNV-1a (64 bit) of a file's bytes, as 16 hex digits. Throws InputError naming the path.
std::string file_fingerprint(const std::string& path);

}  // namespace bcd::serve
