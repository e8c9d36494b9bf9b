// meta::LogVersion as it crosses the MetaService (meta.proto's Version).
#pragma once

#include "meta/shard_entry.h"
#include "rpc/meta.pb.h"

namespace tessera::rpc {

inline meta::LogVersion FromProto(const Version& v) { return {v.epoch(), v.seq()}; }

inline void ToProto(meta::LogVersion v, Version* out) {
  out->set_epoch(v.epoch);
  out->set_seq(v.seq);
}

}  // namespace tessera::rpc
