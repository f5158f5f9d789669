#pragma once
// Runs a classifier over the rows of an evaluation (the part that needs the
// model, hence libtorch; everything else lives in evaluation.h).

#include <cstddef>
#include <functional>
#include <vector>

#include "eval/evaluation.h"
#include "model/classifier.h"

namespace bcd::eval {

/// Decodes and classifies every row in chunks of `batch_size` images. A file
/// that is missing, unreadable or not a decodable image is marked failed with
/// the reason; the others still get scores. `progress(done)` after each chunk.
/// Model errors propagate.
void score_rows(const Classifier& classifier, std::vector<ImageResult>& rows, int batch_size,
                const std::function<void(std::size_t)>& progress = {});

}  // namespace bcd::eval
