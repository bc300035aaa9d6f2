#include "core/formats/trace_file.h"

#include "core/formats/safetensors.h"

namespace ps {

std::vector<WrittenTensor> write_trace_safetensors(const std::string& path, const Model& model,
                                                   const Trace& trace) {
    std::vector<TensorToWrite> tensors;
    std::vector<WrittenTensor> written;
    // Kept until the file is written: the pattern's values live in it (rearranged for export).
    const std::vector<NamedActivation> activations = named_activations(trace);
    for (const NamedActivation& a : activations) {
        uint64_t count = 1;
        for (int64_t d : a.shape) count *= static_cast<uint64_t>(d);
        tensors.push_back({a.name, "F32", a.shape, a.data, count * sizeof(float)});
        written.push_back({a.name, a.shape});
    }
    std::string id_list;
    for (size_t i = 0; i < trace.ids.size(); ++i)
        id_list += (i ? "," : "") + std::to_string(trace.ids[i]);
    std::map<std::string, std::string> metadata{
        {"model", model.path}, {"architecture", arch_name(model.config.arch)}, {"ids", id_list}};
    // What the run changed, in the --intervene forms, one per line.
    std::string changes;
    for (const std::string& edit : model.weight_edits) changes += edit + "\n";
    for (const Intervention& iv : trace.interventions)
        if (iv.enabled) changes += iv.spec() + (iv.source.empty() ? "" : " # " + iv.source) + "\n";
    if (!changes.empty()) metadata["interventions"] = changes;
    write_safetensors(path, tensors, metadata);
    return written;
}

}  // namespace ps
