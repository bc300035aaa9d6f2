// Context-menu entries that edit one tensor (views/parameters/weight_edit_menu.h).
#include "views/parameters/weight_edit_menu.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QInputDialog>
#include <QMenu>
#include <QSpinBox>
#include <algorithm>
#include <limits>
#include <string>

#include "app/session/session.h"
#include "core/model/model.h"
#include "core/model/weight_edit.h"

namespace ps {

namespace {

// The tensor as edits index it: [rows, cols], a 1-D tensor one column of rows.
struct Grid {
    int64_t rows = 1, cols = 1;
    bool one_d = true;
};

Grid grid_of(const TensorInfo& t) {
    Grid g;
    g.one_d = t.shape.size() < 2;
    g.rows = t.shape.empty() ? 1 : t.shape[0];
    g.cols = g.rows > 0 ? t.count / g.rows : 0;
    return g;
}

int clamp_int(int64_t v) {
    return static_cast<int>(std::min<int64_t>(v, std::numeric_limits<int>::max()));
}

// One value's indices and its new value, asked for in one dialog; false when cancelled.
bool ask_element(QWidget* parent, const QString& title, const Grid& g, int64_t& row, int64_t& col,
                 float& value) {
    QDialog dialog(parent);
    dialog.setWindowTitle(title);
    auto* form = new QFormLayout(&dialog);
    auto* row_box = new QSpinBox;
    row_box->setRange(0, clamp_int(g.rows - 1));
    form->addRow(g.one_d ? QObject::tr("Index") : QObject::tr("Row"), row_box);
    QSpinBox* col_box = nullptr;
    if (!g.one_d) {
        col_box = new QSpinBox;
        col_box->setRange(0, clamp_int(g.cols - 1));
        form->addRow(QObject::tr("Column"), col_box);
    }
    auto* value_box = new QDoubleSpinBox;
    value_box->setRange(-1e6, 1e6);
    value_box->setDecimals(6);
    form->addRow(QObject::tr("New value"), value_box);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) return false;
    row = row_box->value();
    col = col_box ? col_box->value() : -1;
    value = static_cast<float>(value_box->value());
    return true;
}

}  // namespace

void add_weight_edit_actions(QMenu* menu, Session* session, const Model& model, int tensor,
                             QWidget* dialog_parent) {
    if (tensor < 0 || tensor >= static_cast<int>(model.tensors.size())) return;
    const TensorInfo& t = model.tensors[static_cast<size_t>(tensor)];
    const std::string name = t.name;
    const QString shown = QString::fromStdString(name);
    const Grid g = grid_of(t);
    auto edit = [=](WeightEdit::Kind kind, int64_t row, int64_t col, float value) {
        WeightEdit e;
        e.kind = kind;
        e.tensor = name;
        e.row = row;
        e.col = col;
        e.value = value;
        session->addWeightEdit(e);
    };
    menu->addSection(shown);
    QAction* scale = menu->addAction(QObject::tr("Scale %1…").arg(shown));
    scale->setObjectName("scale-tensor");
    QObject::connect(scale, &QAction::triggered, session, [=] {
        bool ok = false;
        const double f = QInputDialog::getDouble(
            dialog_parent, QObject::tr("Scale a tensor"),
            QObject::tr("Multiply every value of %1 by").arg(shown), 0.5, -100.0, 100.0, 3, &ok);
        if (ok) edit(WeightEdit::Kind::Scale, -1, -1, static_cast<float>(f));
    });
    QAction* zero = menu->addAction(QObject::tr("Zero %1").arg(shown));
    zero->setObjectName("zero-tensor");
    QObject::connect(zero, &QAction::triggered, session,
                     [=] { edit(WeightEdit::Kind::Set, -1, -1, 0.0f); });
    if (!g.one_d) {
        // Rows of an [out, in] weight are one output unit's input weights (one neuron's for an
        // MLP up projection); rows of an embedding are one token's vector.
        QAction* zero_row = menu->addAction(QObject::tr("Zero one row…"));
        zero_row->setObjectName("zero-row");
        QObject::connect(zero_row, &QAction::triggered, session, [=] {
            bool ok = false;
            const int r =
                QInputDialog::getInt(dialog_parent, QObject::tr("Zero a row"),
                                     QObject::tr("Row of %1 (0..%2)").arg(shown).arg(g.rows - 1), 0,
                                     0, clamp_int(g.rows - 1), 1, &ok);
            if (ok) edit(WeightEdit::Kind::Set, r, -1, 0.0f);
        });
        QAction* zero_col = menu->addAction(QObject::tr("Zero one column…"));
        zero_col->setObjectName("zero-column");
        QObject::connect(zero_col, &QAction::triggered, session, [=] {
            bool ok = false;
            const int c =
                QInputDialog::getInt(dialog_parent, QObject::tr("Zero a column"),
                                     QObject::tr("Column of %1 (0..%2)").arg(shown).arg(g.cols - 1),
                                     0, 0, clamp_int(g.cols - 1), 1, &ok);
            if (ok) edit(WeightEdit::Kind::Set, -1, c, 0.0f);
        });
    }
    QAction* set = menu->addAction(QObject::tr("Set one value…"));
    set->setObjectName("set-value");
    QObject::connect(set, &QAction::triggered, session, [=] {
        int64_t row = 0, col = -1;
        float value = 0.0f;
        if (ask_element(dialog_parent, QObject::tr("Set one value of %1").arg(shown), g, row, col,
                        value))
            edit(WeightEdit::Kind::Set, row, col, value);
    });
    // Undo: every edit of this tensor.
    std::vector<int> own;
    const auto& edits = session->weightEdits();
    for (size_t i = 0; i < edits.size(); ++i)
        if (edits[i].tensor == name) own.push_back(static_cast<int>(i));
    if (!own.empty()) {
        QAction* undo = menu->addAction(QObject::tr("Undo the edits of %1").arg(shown));
        undo->setObjectName("undo-edits");
        QObject::connect(undo, &QAction::triggered, session, [=] {
            std::vector<WeightEdit> kept;
            for (const WeightEdit& e : session->weightEdits())
                if (e.tensor != name) kept.push_back(e);
            session->setWeightEdits(kept);
        });
    }
}

}  // namespace ps
