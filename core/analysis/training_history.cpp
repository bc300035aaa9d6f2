#include "core/analysis/training_history.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/formats/safetensors.h"
#include "core/tensor/half.h"

namespace ps {

namespace fs = std::filesystem;

namespace {

// "step_000100.safetensors" -> 100; -1 for any other name.
int snapshot_step(const std::string& name) {
    const std::string prefix = "step_", suffix = ".safetensors";
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return -1;
    const char* begin = name.data() + prefix.size();
    const char* end = name.data() + name.size() - suffix.size();
    int step = -1;
    auto [ptr, ec] = std::from_chars(begin, end, step);
    return ec == std::errc() && ptr == end && step >= 0 ? step : -1;
}

double parse_field(const std::string& field, const std::string& path, int line, bool optional) {
    if (field.empty() && optional) return std::numeric_limits<double>::quiet_NaN();
    try {
        size_t used = 0;
        const double v = std::stod(field, &used);
        if (used == field.size()) return v;
    } catch (const std::exception&) {
    }
    throw Error(path + ": line " + std::to_string(line) + ": expected a number, got '" + field +
                "'");
}

std::vector<TrainingLogRow> read_log(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot be read");
    std::string line;
    std::getline(in, line);
    if (line.rfind("step,train_loss,val_loss,lr,grad_norm", 0) != 0)
        throw Error(path + ": line 1: expected the header step,train_loss,val_loss,lr,grad_norm");
    std::vector<TrainingLogRow> rows;
    for (int n = 2; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
        if (line.back() == ',') f.emplace_back();
        if (f.size() < 5)
            throw Error(path + ": line " + std::to_string(n) + ": expected 5 fields, got " +
                        std::to_string(f.size()));
        TrainingLogRow r;
        r.step = static_cast<int>(parse_field(f[0], path, n, false));
        r.train_loss = parse_field(f[1], path, n, true);
        r.val_loss = parse_field(f[2], path, n, true);
        r.lr = parse_field(f[3], path, n, true);
        r.grad_norm = parse_field(f[4], path, n, true);
        rows.push_back(r);
    }
    return rows;
}

}  // namespace

TrainingHistory find_training_history(const std::string& model_path) {
    std::error_code ec;
    fs::path dir = fs::is_directory(model_path, ec) ? fs::path(model_path)
                                                    : fs::path(model_path).parent_path();
    TrainingHistory h;
    const fs::path snapshots = dir / "snapshots";
    if (!fs::is_directory(snapshots, ec)) return h;
    std::vector<std::pair<int, std::string>> found;
    for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
        const int step = snapshot_step(entry.path().filename().string());
        if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path().string());
    }
    std::sort(found.begin(), found.end());
    for (auto& [step, path] : found) {
        h.steps.push_back(step);
        h.snapshot_paths.push_back(path);
    }
    if (fs::exists(dir / "training_log.csv", ec))
        h.log = read_log((dir / "training_log.csv").string());
    return h;
}

std::map<std::string, std::vector<float>> load_snapshot(const std::string& path,
                                                        const Model& model) {
    SafetensorsFile file(path);
    std::map<std::string, std::vector<float>> out;
    for (const TensorInfo& info : model.tensors) {
        const SafetensorsTensor* t = file.find(info.name);
        if (!t) throw Error(path + ": tensor '" + info.name + "' is missing from the snapshot");
        int64_t count = 1;
        for (int64_t n : t->shape) count *= n;
        if (count != info.count)
            throw Error(path + ": tensor '" + info.name + "' has " + std::to_string(count) +
                        " values, the model has " + std::to_string(info.count));
        std::vector<float> values(static_cast<size_t>(count));
        if (t->dtype == "F32") {
            std::memcpy(values.data(), t->data, values.size() * sizeof(float));
        } else if (t->dtype == "F16" || t->dtype == "BF16") {
            const bool f16 = t->dtype == "F16";
            for (size_t i = 0; i < values.size(); ++i) {
                uint16_t h;
                std::memcpy(&h, t->data + 2 * i, 2);
                values[i] = f16 ? f16_to_f32(h) : bf16_to_f32(h);
            }
        } else {
            throw Error(path + ": tensor '" + info.name + "' has dtype " + t->dtype +
                        ", expected F32, F16 or BF16");
        }
        out.emplace(info.name, std::move(values));
    }
    return out;
}

}  // namespace ps
