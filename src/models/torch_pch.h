#pragma once

// The LibTorch headers precompiled once for every LibTorch target.
#include <torch/script.h>
#include <torch/torch.h>
