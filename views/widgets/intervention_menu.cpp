// Context-menu entries for interventions on a head or a neuron (views/widgets/intervention_menu.h).
#include "views/widgets/intervention_menu.h"

#include <QMenu>
#include <QString>

#include "app/session/session.h"

namespace ps {

QString unit_name(Hook hook, int layer, int unit) {
    return QStringLiteral("%1 %2.%3")
        .arg(hook == Hook::AttnZ ? QStringLiteral("head") : QStringLiteral("neuron"))
        .arg(layer)
        .arg(unit);
}

void add_intervention_actions(QMenu* menu, Session* session, Hook hook, int layer, int unit) {
    const QString name = unit_name(hook, layer, unit);
    auto add = [=](const QString& text, Intervention::Action action, float factor) {
        QAction* a = menu->addAction(text);
        QObject::connect(a, &QAction::triggered, session, [=] {
            Intervention iv;
            iv.action = action;
            iv.hook = hook;
            iv.layer = layer;
            iv.unit = unit;
            iv.factor = factor;
            session->addIntervention(iv);
        });
        return a;
    };
    menu->addSection(name);
    add(QObject::tr("Ablate %1 (set to zero)").arg(name), Intervention::Action::Scale, 0.0f)
        ->setObjectName("ablate");
    add(QObject::tr("Mean-ablate %1 (its mean over the prompt)").arg(name),
        Intervention::Action::MeanAblate, 0.0f)
        ->setObjectName("mean-ablate");
    add(QObject::tr("Scale %1 ×0.5").arg(name), Intervention::Action::Scale, 0.5f)
        ->setObjectName("scale-half");
    add(QObject::tr("Scale %1 ×2").arg(name), Intervention::Action::Scale, 2.0f)
        ->setObjectName("scale-double");
    QAction* sweep = menu->addAction(QObject::tr("Sweep %1 from ×0 to ×2").arg(name));
    sweep->setObjectName("sweep");
    QObject::connect(sweep, &QAction::triggered, session, [=] {
        Intervention iv;
        iv.hook = hook;
        iv.layer = layer;
        iv.unit = unit;
        session->computeSweep(iv);
    });
    const int existing = session->findIntervention(hook, layer, unit);
    QAction* restore = menu->addAction(QObject::tr("Restore %1").arg(name));
    restore->setObjectName("restore");
    restore->setEnabled(existing >= 0);
    QObject::connect(restore, &QAction::triggered, session, [=] {
        const int i = session->findIntervention(hook, layer, unit);
        if (i >= 0) session->removeIntervention(i);
    });
}

}  // namespace ps
