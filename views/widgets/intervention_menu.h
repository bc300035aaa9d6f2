// The "turn a dial" entries of a context menu for one attention head or MLP neuron: ablate,
// mean-ablate, scale by 0.5 or 2, and restore. Every view that shows heads or neurons offers
// them where a person right-clicks; they edit the Session's intervention list.
#pragma once

#include <QString>

#include "core/model/intervention.h"

class QMenu;

namespace ps {

class Session;

// `unit` is the head (Hook::AttnZ) or the neuron (Hook::MlpPost) of `layer`.
void add_intervention_actions(QMenu* menu, Session* session, Hook hook, int layer, int unit);

// "head 1.6" or "neuron 4.163".
QString unit_name(Hook hook, int layer, int unit);

}  // namespace ps
