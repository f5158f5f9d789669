#include "common/errors.h"

namespace bcd {

int exit_code(const std::exception& e) {
  if (dynamic_cast<const ImageError*>(&e)) return kExitImage;
  if (dynamic_cast<const InputError*>(&e)) return kExitInput;
  if (dynamic_cast<const ModelError*>(&e)) return kExitModel;
  if (dynamic_cast<const OutputError*>(&e)) return kExitOutput;
  return kExitInternal;
}

}  // namespace bcd
