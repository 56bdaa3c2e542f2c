// weft: the whole public API in one include.
//
//   #include <weft/weft.h>
//   weft::Runtime rt(cfg);
//   auto predict = weft::op(rt, "predict", {"question"}, [](const std::string& q) { ... });
//
// Each header below also stands alone (the build proves it: weft_verify_interface_header_sets).
#pragma once

#include <weft/call.h>        // Call, CallOptions, CallScope, run_traced, current_call
#include <weft/config.h>      // Config
#include <weft/digest.h>      // Weave digests: objects, tables, files
#include <weft/ids.h>         // UUIDv7 call ids, timestamps
#include <weft/json.h>        // canonical JSON writer, JSON parser
#include <weft/metrics.h>     // MetricsSnapshot, render_prometheus
#include <weft/op.h>          // weft::op: trace a callable like @weave.op
#include <weft/ref.h>         // weave:/// refs
#include <weft/runtime.h>     // Runtime, RuntimeStats
#include <weft/saved_ref.h>   // SavedRef
#include <weft/status.h>      // Status, StatusCode, Result<T>, StatusError
#include <weft/store.h>       // Store: plug in a store of your own
#include <weft/to_value.h>    // to_value, ValueTraits, WEFT_OBJECT
#include <weft/value.h>       // Value and Weave's kinds
#include <weft/version.h>     // kVersion, version()
