#pragma once
// Typed errors of the library. Every message says where (file, field, line),
// what was expected, what was found and, where it helps, what to do. The CLI
// maps each type to its own exit code (see exit_code()); the server maps
// InputError to 4xx and everything else to 5xx.

#include <stdexcept>
#include <string>

namespace bcd {

/// Base of all errors the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input: a flag, a data set layout, a CSV manifest, a split file.
class InputError : public Error {
 public:
  using Error::Error;
};

/// An image that cannot be read or decoded (missing, truncated, not an image,
/// unsupported variant, too many pixels).
class ImageError : public InputError {
 public:
  using InputError::InputError;
};

/// A model directory that is incomplete or inconsistent: config.json,
/// preprocessor_config.json or model.safetensors missing, malformed,
/// misshapen or of the wrong type.
class ModelError : public Error {
 public:
  using Error::Error;
};

/// Writing an output failed (disk full, permission denied).
class OutputError : public Error {
 public:
  using Error::Error;
};

/// Process exit codes of the `bcd` command. 0 is success; 1 is reserved for
/// "finished, but some inputs failed" (e.g. one unreadable image in a batch).
enum ExitCode : int {
  kExitOk = 0,
  kExitPartialFailure = 1,
  kExitUsage = 2,
  kExitInput = 3,
  kExitImage = 4,
  kExitModel = 5,
  kExitOutput = 6,
  kExitInternal = 70,
};

/// The exit code the CLI uses for an exception.
int exit_code(const std::exception& e);

}  // namespace bcd
