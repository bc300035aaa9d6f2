#include "tests/support/tokenizer_json_writer.h"

#include <fstream>

namespace ps::test {

using nlohmann::json;

json byte_level_tokenizer_json(const BpeVocab& v, const TokenizerJsonParts& parts) {
    json vocab = json::object();
    for (size_t i = 0; i < v.pieces.size(); ++i) vocab[v.pieces[i]] = int(i);
    json merges = json::array();
    for (const std::string& m : v.merges) {
        const size_t space = m.find(' ');
        if (parts.pair_merges)
            merges.push_back(json::array({m.substr(0, space), m.substr(space + 1)}));
        else
            merges.push_back(m);
    }
    json model = {{"type", "BPE"},
                  {"vocab", vocab},
                  {"merges", merges},
                  {"byte_fallback", false},
                  {"ignore_merges", parts.ignore_merges}};
    return {{"version", "1.0"},
            {"added_tokens", parts.added_tokens},
            {"normalizer", parts.normalizer},
            {"pre_tokenizer", parts.pre_tokenizer},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model", model}};
}

void write_byte_level_tokenizer_json(const std::string& dir, const BpeVocab& v,
                                     const TokenizerJsonParts& parts) {
    std::ofstream(dir + "/tokenizer.json", std::ios::binary | std::ios::trunc)
        << byte_level_tokenizer_json(v, parts).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ps::test
