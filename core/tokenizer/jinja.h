// A renderer for the subset of Jinja that chat templates use, with Hugging Face's settings
// (transformers' apply_chat_template: trim_blocks, lstrip_blocks, loop controls):
// {{ }}, {% if/elif/else %}, {% for %} with loop.* and else, {% set %} (also ns.attr and
// blocks), {% macro %}, {% break/continue %}, {% generation %}, {# #}, whitespace control
// ({%- -%}), Python's operators, literals, slices and string/dict methods, the filters and
// tests templates use, and the globals raise_exception, namespace, range and strftime_now.
//
// Templates come from downloaded files, so they are untrusted: output size, work and recursion
// are bounded and anything unsupported is an error naming the construct and the line.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "core/tokenizer/jinja_value.h"

namespace ps::jinja {

namespace detail {
struct Node;
}

struct RenderLimits {
    size_t max_output_bytes = 4u << 20;
    size_t max_steps = 20'000'000;  // evaluated nodes and expressions
    int max_call_depth = 64;        // nested macro calls
};

class Template {
  public:
    // Parses `source`; errors are ps::Error("<origin>: line N: ...").
    Template(std::string_view source, std::string origin);
    ~Template();
    Template(Template&&) noexcept;

    // Renders with `globals` as the template's variables. `now` is what strftime_now formats.
    std::string render(const Dict& globals, std::time_t now = std::time(nullptr),
                       const RenderLimits& limits = {}) const;

  private:
    std::unique_ptr<std::vector<detail::Node>> body_;
    std::string origin_;
};

}  // namespace ps::jinja
