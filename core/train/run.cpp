// A training run from documents to an output directory (see core/train/run.h).
#include "core/train/run.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/train/corpus.h"
#include "core/train/files.h"

namespace ps {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kLogHeader = "step,train_loss,val_loss,lr,grad_norm";

std::string number(float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    (void)ec;
    return std::string(buf, end);
}

std::string snapshot_path(const std::string& out_dir, int step) {
    char name[64];
    std::snprintf(name, sizeof name, "step_%06d.safetensors", step);
    return (fs::path(out_dir) / "snapshots" / name).string();
}

// Keeps the header and the rows of steps <= `last_step` (a resumed run rewrites the rest).
void truncate_log(const std::string& path, int last_step) {
    std::ifstream in(path);
    if (!in) fail(path, "cannot read the training log to resume");
    std::string line, kept;
    std::getline(in, line);
    if (line != kLogHeader) fail(path, "first line is not '" + std::string(kLogHeader) + "'");
    kept = line + "\n";
    while (std::getline(in, line)) {
        int step = -1;
        std::from_chars(line.data(), line.data() + line.size(), step);
        if (step >= 0 && step <= last_step) kept += line + "\n";
    }
    in.close();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << kept;
    if (!out) fail(path, "cannot write");
}

}  // namespace

json to_json(const CorpusSource& c) {
    return json{{"builtin", c.builtin},
                {"file", c.file},
                {"documents", c.documents},
                {"seed", std::to_string(c.seed)}};
}

CorpusSource corpus_source_from_json(const json& j, const std::string& source) {
    CorpusSource c;
    try {
        c.builtin = j.at("builtin").get<std::string>();
        c.file = j.at("file").get<std::string>();
        c.documents = j.at("documents").get<int>();
        c.seed = std::stoull(j.at("seed").get<std::string>());
    } catch (const std::exception& e) {
        fail(source, std::string("malformed corpus description: ") + e.what());
    }
    return c;
}

std::vector<std::string> split_documents(const std::string& text) {
    std::vector<std::string> docs;
    std::string current;
    std::istringstream in(text);
    std::string line;
    auto flush = [&] {
        while (!current.empty() && current.back() == '\n') current.pop_back();
        if (!current.empty()) docs.push_back(current);
        current.clear();
    };
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            flush();
        else
            current += line + "\n";
    }
    flush();
    return docs;
}

std::vector<std::string> load_documents(const CorpusSource& c) {
    if (c.builtin.empty() == c.file.empty())
        throw Error("give exactly one corpus: a text file or a builtin (stories, sort, reverse)");
    if (!c.builtin.empty()) {
        const int n = c.documents > 0 ? c.documents : builtin_default_count(c.builtin);
        return generate_builtin(c.builtin, c.seed, n);
    }
    std::error_code ec;
    const auto size = fs::file_size(c.file, ec);
    if (ec) fail(c.file, "cannot read the corpus: " + ec.message());
    if (size > (1ull << 30)) fail(c.file, "corpus is larger than 1 GiB");
    std::ifstream in(c.file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) fail(c.file, "cannot read the corpus");
    std::vector<std::string> docs = split_documents(buffer.str());
    if (docs.empty()) fail(c.file, "the corpus has no text");
    return docs;
}

PreparedCorpus prepare_corpus(const std::vector<std::string>& documents, int vocab_size,
                              double val_fraction) {
    if (documents.size() < 2)
        throw Error("the corpus needs at least 2 documents (training and validation), got " +
                    std::to_string(documents.size()));
    if (!(val_fraction > 0.0 && val_fraction < 1.0))
        throw Error("validation fraction must be in (0, 1)");
    const size_t n_val = std::clamp<size_t>(
        static_cast<size_t>(std::llround(static_cast<double>(documents.size()) * val_fraction)), 1,
        documents.size() - 1);
    const size_t n_train = documents.size() - n_val;
    PreparedCorpus p;
    p.tokenizer =
        train_bpe(std::vector<std::string>(
                      documents.begin(), documents.begin() + static_cast<std::ptrdiff_t>(n_train)),
                  vocab_size);
    for (size_t i = 0; i < documents.size(); ++i) {
        std::vector<int>& out = i < n_train ? p.train : p.val;
        std::vector<int> ids = p.tokenizer.encode(documents[i]);
        out.insert(out.end(), ids.begin(), ids.end());
        out.push_back(p.tokenizer.eot_id);
    }
    return p;
}

double unigram_entropy(const std::vector<int>& ids, int vocab_size) {
    std::vector<int64_t> counts(static_cast<size_t>(vocab_size), 0);
    for (int id : ids) ++counts.at(static_cast<size_t>(id));
    double h = 0.0;
    const double n = static_cast<double>(ids.size());
    for (int64_t c : counts)
        if (c > 0) h -= static_cast<double>(c) / n * std::log(static_cast<double>(c) / n);
    return h;
}

std::vector<int> snapshot_steps(int last_step) {
    std::vector<int> steps;
    for (int s : {0, 1, 10, 100, 1000})
        if (s < last_step) steps.push_back(s);
    steps.push_back(last_step);
    return steps;
}

RunResult run_training(const RunOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    const fs::path out(o.out_dir);
    const std::string checkpoint_path = (out / "checkpoint.safetensors").string();
    const std::string log_path = (out / "training_log.csv").string();
    auto note = [&](const std::string& s) {
        if (o.on_note) o.on_note(s);
    };
    if (o.out_dir.empty()) throw Error("no output directory given");

    TrainSettings s = o.settings;
    CorpusSource corpus = o.corpus;
    Checkpoint ckpt;
    if (o.resume) {
        if (!fs::exists(checkpoint_path))
            fail(checkpoint_path, "no checkpoint to resume from (the run finished, or never ran)");
        ckpt = load_checkpoint(checkpoint_path);
        const int threads = o.settings.threads;
        s = settings_from_json(ckpt.settings, checkpoint_path);
        corpus = corpus_source_from_json(ckpt.corpus, checkpoint_path);
        if (threads > 0 && threads != s.threads) {
            note("resuming with " + std::to_string(threads) + " threads instead of " +
                 std::to_string(s.threads) + ": not bit-identical to an uninterrupted run");
            s.threads = threads;
        }
    } else {
        s.check();
        if (s.shape.vocab_size < 257)
            throw Error("vocab must be at least 257 (256 byte tokens + <|endoftext|>), got " +
                        std::to_string(s.shape.vocab_size));
        if (fs::exists(log_path) || fs::exists(checkpoint_path))
            fail(o.out_dir, "already holds a training run; use --resume or another --out");
    }

    note("preparing the corpus and training the tokenizer");
    PreparedCorpus data = prepare_corpus(load_documents(corpus), s.shape.vocab_size);
    const uint64_t hash = token_hash(data.train, data.val);
    if (o.resume) {
        if (ckpt.corpus.value("token_hash", "") != std::to_string(hash))
            fail(checkpoint_path,
                 "the corpus no longer gives the token stream the checkpoint was trained on");
    } else if (data.tokenizer.vocab_size() < s.shape.vocab_size) {
        note("the corpus supports only " + std::to_string(data.tokenizer.vocab_size()) +
             " tokens; using that vocabulary size");
    }
    s.shape.vocab_size = data.tokenizer.vocab_size();
    json corpus_json = to_json(corpus);
    corpus_json["token_hash"] = std::to_string(hash);

    RunResult result;
    result.unigram_entropy = unigram_entropy(data.train, s.shape.vocab_size);
    note("corpus: " + std::to_string(data.train.size()) + " training and " +
         std::to_string(data.val.size()) + " validation tokens, vocabulary " +
         std::to_string(s.shape.vocab_size) + ", unigram entropy " +
         number(static_cast<float>(result.unigram_entropy)) + " nats/token");
    const size_t train_tokens = data.train.size();
    const size_t val_tokens = data.val.size();
    Trainer trainer(s, std::move(data.train), std::move(data.val));

    fs::create_directories(out / "snapshots");
    const std::vector<int> snapshots = snapshot_steps(s.steps);
    auto is_snapshot = [&](int step) {
        return std::find(snapshots.begin(), snapshots.end(), step) != snapshots.end();
    };
    std::ofstream log;
    if (o.resume) {
        trainer.restore(ckpt.step, std::move(ckpt.params), std::move(ckpt.adam_m),
                        std::move(ckpt.adam_v));
        truncate_log(log_path, trainer.step());
        log.open(log_path, std::ios::binary | std::ios::app);
        note("resuming at step " + std::to_string(trainer.step()));
    } else {
        data.tokenizer.write(o.out_dir);
        log.open(log_path, std::ios::binary | std::ios::trunc);
        log << kLogHeader << "\n";
        const float val = trainer.validation_loss();
        log << "0,," << number(val) << ",0,\n";
        write_param_snapshot(snapshot_path(o.out_dir, 0), trainer.model(), trainer.params(), 0);
        result.val_loss = val;
    }
    if (!log) fail(log_path, "cannot write");

    const int first_step = trainer.step();
    const double tokens_per_step = static_cast<double>(s.batch) * s.shape.context_length;
    const auto loop_start = std::chrono::steady_clock::now();
    auto seconds_since = [](std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    };
    bool stopped = false;
    while (trainer.step() < s.steps) {
        if (o.stop && o.stop->load()) {
            stopped = true;
            break;
        }
        RunProgress p;
        p.stats = trainer.train_step();
        const int step = p.stats.step;
        if (step % s.eval_period() == 0 || step == s.steps) p.val_loss = trainer.validation_loss();
        log << step << "," << number(p.stats.train_loss) << ","
            << (p.val_loss >= 0 ? number(p.val_loss) : "") << "," << number(p.stats.lr) << ","
            << number(p.stats.grad_norm) << "\n";
        if (is_snapshot(step))
            write_param_snapshot(snapshot_path(o.out_dir, step), trainer.model(), trainer.params(),
                                 step);
        result.train_loss = p.stats.train_loss;
        if (p.val_loss >= 0) result.val_loss = p.val_loss;
        p.total_steps = s.steps;
        p.first_step = first_step;
        p.seconds = seconds_since(loop_start);
        p.tokens_per_second = (step - first_step) * tokens_per_step / std::max(1e-9, p.seconds);
        if (o.on_step) o.on_step(p);
    }
    log.close();
    if (!log) fail(log_path, "cannot write");

    result.step = trainer.step();
    result.finished = !stopped;
    result.seconds = seconds_since(start);
    result.tokens_per_second =
        (result.step - first_step) * tokens_per_step / std::max(1e-9, seconds_since(loop_start));
    result.settings = s;
    // The directory always holds a loadable model of the current parameters.
    write_gpt2_hf(o.out_dir, trainer.model(), trainer.params(),
                  trainer.model().shape().vocab_size - 1);
    if (stopped) {
        save_checkpoint(checkpoint_path, {trainer.step(), to_json(s), corpus_json, trainer.params(),
                                          trainer.adam_m(), trainer.adam_v()});
        note("stopped at step " + std::to_string(trainer.step()) + "; checkpoint written to " +
             checkpoint_path);
        return result;
    }
    fs::remove(checkpoint_path);
    json summary{{"settings", to_json(s)},
                 {"corpus", corpus_json},
                 {"train_tokens", train_tokens},
                 {"val_tokens", val_tokens},
                 {"unigram_entropy_nats", result.unigram_entropy},
                 {"final_train_loss", result.train_loss},
                 {"final_val_loss", result.val_loss},
                 {"param_count", trainer.model().param_count()}};
    std::ofstream summary_out(out / "training.json", std::ios::binary | std::ios::trunc);
    summary_out << summary.dump(2) << "\n";
    return result;
}

}  // namespace ps
