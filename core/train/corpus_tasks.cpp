// The algorithmic corpora (`reverse`, `sort`), and the table of builtin corpora.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/train/corpus.h"
#include "core/train/rng.h"

namespace ps {

std::vector<std::string> generate_reverse(uint64_t seed, int count) {
    Rng rng(seed, 3);
    std::vector<std::string> examples;
    for (int i = 0; i < count; ++i) {
        const int n = 3 + rng.below(6);  // 3..8 letters
        std::string letters;
        for (int k = 0; k < n; ++k) letters += static_cast<char>('a' + rng.below(26));
        examples.push_back(letters + ">" + std::string(letters.rbegin(), letters.rend()));
    }
    return examples;
}

std::vector<std::string> generate_sort(uint64_t seed, int count) {
    Rng rng(seed, 4);
    std::vector<std::string> examples;
    for (int i = 0; i < count; ++i) {
        const int n = 3 + rng.below(6);  // 3..8 distinct letters
        std::string letters;
        while (static_cast<int>(letters.size()) < n) {
            const char c = static_cast<char>('a' + rng.below(26));
            if (letters.find(c) == std::string::npos) letters += c;
        }
        std::string sorted = letters;
        std::sort(sorted.begin(), sorted.end());
        examples.push_back(letters + ">" + sorted);
    }
    return examples;
}

std::vector<std::string> generate_builtin(const std::string& name, uint64_t seed, int count) {
    if (count < 1 || count > 10000000)
        throw Error("builtin corpus '" + name + "': document count must be in 1..10000000, got " +
                    std::to_string(count));
    if (name == "stories") return generate_stories(seed, count);
    if (name == "reverse") return generate_reverse(seed, count);
    if (name == "sort") return generate_sort(seed, count);
    throw Error("unknown builtin corpus '" + name + "' (available: stories, sort, reverse)");
}

int builtin_default_count(const std::string& name) {
    if (name == "stories") return 20000;
    if (name == "reverse" || name == "sort") return 50000;
    throw Error("unknown builtin corpus '" + name + "' (available: stories, sort, reverse)");
}

}  // namespace ps
