// The corpora the project generates itself (no third-party text is shipped), deterministically
// from a seed: the same (seed, count) gives the same documents on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ps {

// Simple children's stories from a hand-written grammar: a named child, a friend (a child or a
// named pet), an object with a color, places, feelings and one of several small plots. Names
// and objects introduced early are used again later, so a model can learn to copy them.
std::vector<std::string> generate_stories(uint64_t seed, int count);

// The reversal task: "abcd>dcba", a random string of 3..8 lowercase letters, '>', and the
// letters in reverse order. Each letter is one token with a byte-level vocabulary (no merges).
std::vector<std::string> generate_reverse(uint64_t seed, int count);

// The sorting task: "dbca>abcd", 3..8 distinct lowercase letters, '>', and the same letters in
// alphabetical order. Each output letter is the smallest input letter after the previous one:
// found by content, not position, so a 2-layer model's attention shows the algorithm (each
// output position attends to the input letter it copies).
std::vector<std::string> generate_sort(uint64_t seed, int count);

// "stories", "sort" or "reverse"; throws ps::Error naming the builtin corpora for anything else.
std::vector<std::string> generate_builtin(const std::string& name, uint64_t seed, int count);
// The documents `paramscope train --builtin NAME` generates unless told otherwise.
int builtin_default_count(const std::string& name);

}  // namespace ps
