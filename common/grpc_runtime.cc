#include "common/grpc_runtime.h"

#include <absl/synchronization/mutex.h>

namespace common {

void TuneGrpcRuntime() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace common
