// llama.cpp's tokenizer test vectors (test-tokenizer-0): .inp holds the texts, each followed by a
// line "__ggml_vocab_test__" (the newline before that line is not part of the text); line i of
// .out holds text i's ids, space-separated, no BOS.
#pragma once

#include <QtTest>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ps::test {

struct VectorCase {
    std::string text;
    std::vector<int> ids;
};

inline std::string read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::vector<VectorCase> read_vectors(const std::string& inp, const std::string& out) {
    const std::string text = read_whole_file(inp);
    const std::string separator = "\n__ggml_vocab_test__\n";
    std::vector<VectorCase> cases;
    for (size_t pos = 0;;) {
        const size_t end = text.find(separator, pos);
        if (end == std::string::npos) break;
        cases.push_back({text.substr(pos, end - pos), {}});
        pos = end + separator.size();
    }
    std::istringstream lines(read_whole_file(out));
    std::string line;
    for (VectorCase& c : cases) {
        std::getline(lines, line);
        std::istringstream ids(line);
        for (int id; ids >> id;) c.ids.push_back(id);
    }
    return cases;
}

// Encodes every case; returns how many give exactly the expected ids, printing the others.
inline int count_matching(const Tokenizer& tok, const std::vector<VectorCase>& cases) {
    int matching = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::vector<int> got = tok.encode(cases[i].text);
        if (got == cases[i].ids) {
            ++matching;
            continue;
        }
        std::string g, e;
        for (int id : got) g += " " + std::to_string(id);
        for (int id : cases[i].ids) e += " " + std::to_string(id);
        qWarning("case %zu: got%s, expected%s", i, g.c_str(), e.c_str());
    }
    return matching;
}

}  // namespace ps::test
