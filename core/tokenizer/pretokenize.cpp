// Pre-tokenization as Hugging Face tokenizers does it: each step splits every current piece on
// its own (so a pattern's lookarounds and anchors see one piece, never its neighbours), and the
// matches are kept, dropped or merged into a neighbour according to the step's behavior.
#include "core/tokenizer/pretokenize.h"

#include <algorithm>

#include "core/error.h"
#include "core/tokenizer/internal.h"

namespace ps::detail {

std::vector<Range> split_by_matches(size_t size, const std::vector<Range>& matches,
                                    SplitBehavior behavior, bool invert) {
    // The text as alternating (range, is_match) parts, as Pattern::find_matches returns them.
    std::vector<std::pair<Range, bool>> parts;
    size_t prev = 0;
    for (const Range& m : matches) {
        if (m.first != prev) parts.push_back({{prev, m.first}, false});
        parts.push_back({m, true});
        prev = m.second;
    }
    if (prev != size || size == 0) parts.push_back({{prev, size}, false});
    if (invert)
        for (auto& p : parts) p.second = !p.second;

    std::vector<std::pair<Range, bool>> out;  // second: to be removed
    bool previous_match = false;
    switch (behavior) {
        case SplitBehavior::Removed:
            for (const auto& p : parts) out.push_back({p.first, p.second});
            break;
        case SplitBehavior::Isolated:
            for (const auto& p : parts) out.push_back({p.first, false});
            break;
        case SplitBehavior::MergedWithPrevious:
            // A match joins the piece before it, unless that piece is itself a match.
            for (const auto& [r, is_match] : parts) {
                if (is_match && !previous_match && !out.empty())
                    out.back().first.second = r.second;
                else
                    out.push_back({r, false});
                previous_match = is_match;
            }
            break;
        case SplitBehavior::MergedWithNext:
            // The mirror image: walk backwards, a match joins the piece after it.
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
                const auto& [r, is_match] = *it;
                if (is_match && !previous_match && !out.empty())
                    out.back().first.first = r.first;
                else
                    out.push_back({r, false});
                previous_match = is_match;
            }
            std::reverse(out.begin(), out.end());
            break;
        case SplitBehavior::Contiguous:
            // Adjacent parts of the same kind become one piece.
            for (const auto& [r, is_match] : parts) {
                if (is_match == previous_match && !out.empty())
                    out.back().first.second = r.second;
                else
                    out.push_back({r, false});
                previous_match = is_match;
            }
            break;
    }
    std::vector<Range> pieces;
    for (const auto& [r, removed] : out)
        if (!removed && r.first != r.second) pieces.push_back(r);
    return pieces;
}

PreTokenizer::PreTokenizer(std::vector<PreTokenizerStep> steps, const std::string& source) {
    if (steps.empty()) steps.push_back({PreTokenizerStep::Kind::Gpt2, {}, {}, false});
    for (PreTokenizerStep& s : steps) {
        Step step{std::move(s), std::nullopt};
        if (step.spec.kind == PreTokenizerStep::Kind::Regex)
            step.regex.emplace(step.spec.pattern, source);
        steps_.push_back(std::move(step));
    }
}

std::vector<std::string> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string> pieces;
    if (!text.empty()) pieces.emplace_back(text);
    std::vector<std::string> next;
    for (const Step& step : steps_) {
        next.clear();
        for (std::string& piece : pieces) {
            switch (step.spec.kind) {
                case PreTokenizerStep::Kind::PrefixSpace:
                    if (!piece.starts_with(' ')) piece.insert(0, 1, ' ');
                    next.push_back(std::move(piece));
                    break;
                case PreTokenizerStep::Kind::Gpt2:
                    for (std::string_view w : gpt2_split_words(piece)) next.emplace_back(w);
                    break;
                case PreTokenizerStep::Kind::Regex: {
                    const std::vector<Range> ranges =
                        split_by_matches(piece.size(), step.regex->find_all(piece),
                                         step.spec.behavior, step.spec.invert);
                    for (const Range& r : ranges)
                        next.push_back(piece.substr(r.first, r.second - r.first));
                    break;
                }
            }
        }
        pieces.swap(next);
    }
    return pieces;
}

}  // namespace ps::detail
