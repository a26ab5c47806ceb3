// Process-wide settings of the libraries under gRPC, applied once at the start of main() of
// every server process.
#pragma once

namespace common {

// Debian builds Abseil without NDEBUG, so absl::Mutex, which gRPC locks on every call, keeps
// a lock-order graph for deadlock detection: a graph update at each lock of a new mutex and a
// node removal at each destruction, a few percent of a busy server's CPU in profiles. Release
// servers run without it, as Abseil's own release builds do.
void TuneGrpcRuntime();

}  // namespace common
