// Interventions as the naive reference passes apply them (tests/support/decoder_fixtures.h,
// random_gpt2.h): at each TransformerLens hook, a callback may change the activation, all
// positions at once, [T][width] in double. Written independently of core/model/intervention.h,
// so that a test states the change in its own words.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ps::test {

using NaiveRows = std::vector<std::vector<double>>;
// hook: "hook_resid_pre", "attn.hook_z", "hook_attn_out", "mlp.hook_post" or "hook_mlp_out".
using NaiveHook = std::function<void(const std::string& hook, int layer, NaiveRows& values)>;

inline void call_hook(const NaiveHook& hook, const char* name, int layer, NaiveRows& values) {
    if (hook) hook(name, layer, values);
}

}  // namespace ps::test
