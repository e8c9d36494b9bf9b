// One shared Reed-Solomon codec per (k, m) for the whole process, so the
// codec's decode-table cache serves every degraded read of that geometry.
#pragma once

#include "common/status.h"
#include "ec/reed_solomon.h"

namespace tessera::io {

// The process-wide codec for k data and m parity units; it lives forever.
// InvalidArgument for geometries ReedSolomon::Create rejects.
Result<const ec::ReedSolomon*> SharedCodec(int data_units, int parity_units);

}  // namespace tessera::io
