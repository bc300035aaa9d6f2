// A whole training run, as `paramscope train` makes it: documents -> byte-level BPE tokenizer ->
// token stream (documents joined by <|endoftext|>) split into training and validation ->
// Trainer -> an output directory in the Hugging Face layout plus training_log.csv, parameter
// snapshots and, when interrupted, a checkpoint that --resume continues bit-exactly.
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/train/bpe_train.h"
#include "core/train/loop.h"

namespace ps {

// Where the documents come from; recorded in the checkpoint so a resumed run rebuilds them.
struct CorpusSource {
    std::string builtin;  // "stories" / "reverse", or empty
    std::string file;     // a UTF-8 text file, documents separated by blank lines
    int documents = 0;    // builtin: how many (0 = builtin_default_count)
    uint64_t seed = 1;    // builtin: generator seed
};

nlohmann::json to_json(const CorpusSource& c);
CorpusSource corpus_source_from_json(const nlohmann::json& j, const std::string& source);
std::vector<std::string> load_documents(const CorpusSource& c);
// Splits a text into documents at blank lines (lines with only white space).
std::vector<std::string> split_documents(const std::string& text);

struct PreparedCorpus {
    BpeTrained tokenizer;
    std::vector<int> train, val;
};

// Trains the tokenizer (vocab_size ids at most) on the training documents and encodes all
// of them, each followed by <|endoftext|>. The last `val_fraction` of the documents (at least
// one) are the validation set. Throws ps::Error if there are fewer than two documents.
PreparedCorpus prepare_corpus(const std::vector<std::string>& documents, int vocab_size,
                              double val_fraction = 0.1);

// Entropy in nats of the tokens' unigram distribution: the loss of the best model that ignores
// context, the baseline a trained model must beat.
double unigram_entropy(const std::vector<int>& ids, int vocab_size);

// Steps whose parameters are kept as snapshots (the last step is added).
std::vector<int> snapshot_steps(int last_step);

struct RunProgress {
    StepStats stats;
    float val_loss = -1;  // when evaluated at this step, else -1
    int total_steps = 0;
    int first_step = 0;  // the step this invocation started from (0, or the resumed step)
    double tokens_per_second = 0;
    double seconds = 0;  // since this invocation started training
};

struct RunOptions {
    // settings.shape.vocab_size is the requested vocabulary. On resume only settings.threads is
    // used: > 0 overrides the checkpoint's thread count (then not bit-exact), 0 keeps it.
    TrainSettings settings;
    CorpusSource corpus;
    std::string out_dir;
    bool resume = false;  // continue from out_dir/checkpoint.safetensors
    std::function<void(const RunProgress&)> on_step;
    std::function<void(const std::string&)> on_note;  // one-line messages for the user
    const std::atomic<bool>* stop = nullptr;          // set (e.g. by SIGINT): checkpoint, return
};

struct RunResult {
    bool finished = false;  // false: stopped early, checkpoint written
    int step = 0;
    float train_loss = 0, val_loss = 0;
    double unigram_entropy = 0;
    double seconds = 0;
    double tokens_per_second = 0;
    TrainSettings settings;  // as used (vocab_size: the tokenizer's real size)
};

// Runs (or, with resume, continues) training. On resume, every setting but the thread count
// comes from the checkpoint, and the corpus must hash to the checkpoint's token stream.
RunResult run_training(const RunOptions& options);

}  // namespace ps
