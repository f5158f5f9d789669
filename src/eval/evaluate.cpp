#include "eval/evaluate.h"

#include <algorithm>

#include "common/errors.h"
#include "image/image.h"

namespace bcd::eval {
namespace {

/// Decodes rows [begin, end); returns the decoded images and their row indices.
std::pair<std::vector<Image>, std::vector<std::size_t>> decode_chunk(std::vector<ImageResult>& rows,
                                                                     std::size_t begin,
                                                                     std::size_t end) {
  std::vector<Image> images;
  std::vector<std::size_t> index;
  for (std::size_t i = begin; i < end; ++i) {
    try {
      images.push_back(load_image(rows[i].path));
      index.push_back(i);
    } catch (const InputError& e) {  // ImageError too: missing, unreadable, not an image
      rows[i].ok = false;
      rows[i].error = e.what();
    }
  }
  return {std::move(images), std::move(index)};
}

}  // namespace

void score_rows(const Classifier& classifier, std::vector<ImageResult>& rows, int batch_size,
                const std::function<void(std::size_t)>& progress) {
  const std::size_t step = static_cast<std::size_t>(std::max(1, batch_size));
  for (std::size_t begin = 0; begin < rows.size(); begin += step) {
    const std::size_t end = std::min(rows.size(), begin + step);
    const auto [images, index] = decode_chunk(rows, begin, end);
    const auto predictions =
        images.empty() ? std::vector<Prediction>{} : classifier.classify(images);
    for (std::size_t k = 0; k < index.size(); ++k) {
      ImageResult& row = rows[index[k]];
      row.ok = true;
      row.probabilities.assign(predictions[k].probabilities.begin(),
                               predictions[k].probabilities.end());
      row.predicted_id =
          static_cast<int>(std::max_element(row.probabilities.begin(), row.probabilities.end()) -
                           row.probabilities.begin());
    }
    if (progress) progress(end);
  }
}

}  // namespace bcd::eval
