// Limits for JSON read from files. nlohmann's parser is iterative, but dump() (used in error
// messages), comparisons and the loaders' own walks of a tree recurse once per level, so a
// file holding a million '[' would overflow the stack. Real model files nest a few levels.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace ps {

inline constexpr int kMaxJsonDepth = 100;

// A callback for nlohmann::json::parse(text, callback) that throws
// ps::Error("<path>: JSON nested deeper than 100 levels") as soon as the parser goes deeper.
inline nlohmann::json::parser_callback_t json_depth_limit(const std::string& path) {
    return [path](int depth, nlohmann::json::parse_event_t, const nlohmann::json&) {
        if (depth > kMaxJsonDepth)
            fail(path, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        return true;
    };
}

}  // namespace ps
