#include "io/codecs.h"

#include <memory>
#include <mutex>

namespace tessera::io {

Result<const ec::ReedSolomon*> SharedCodec(int data_units, int parity_units) {
  constexpr int kRows = ec::ReedSolomon::kMaxDataUnits + 1;
  constexpr int kCols = ec::ReedSolomon::kMaxParityUnits + 1;
  static std::mutex mutex;
  static std::unique_ptr<ec::ReedSolomon> codecs[kRows][kCols];
  if (data_units < 1 || data_units >= kRows || parity_units < 0 || parity_units >= kCols) {
    return ec::ReedSolomon::Create(data_units, parity_units).status();
  }
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<ec::ReedSolomon>& slot = codecs[data_units][parity_units];
  if (!slot) {
    ASSIGN_OR_RETURN(ec::ReedSolomon codec, ec::ReedSolomon::Create(data_units, parity_units));
    slot = std::make_unique<ec::ReedSolomon>(std::move(codec));
  }
  return slot.get();
}

}  // namespace tessera::io
