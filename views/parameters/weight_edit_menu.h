// The "edit a parameter" entries of the parameters view's context menu for one tensor: scale
// it, zero it, zero one row or column (one neuron's input weights, one token's embedding), set
// one value, and undo its edits. They edit the Session's weight edits
// (core/model/weight_edit.h): the file is never written.
#pragma once

class QMenu;
class QWidget;

namespace ps {

class Model;
class Session;

// `tensor` indexes model.tensors. Entries that need a number ask for it in a dialog parented
// to `dialog_parent`.
void add_weight_edit_actions(QMenu* menu, Session* session, const Model& model, int tensor,
                             QWidget* dialog_parent);

}  // namespace ps
