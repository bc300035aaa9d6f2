// The explanation texts in the project's own words (resources/explanations/*.md, compiled into
// the binary): one per concept (embeddings, weights, attention, top-p, ...) and one per view
// ("view-attention", ...). Markdown, short enough to read aloud in a classroom.
#pragma once

#include <QString>
#include <QStringList>

namespace ps {

// The concept topics the guided walk and the views refer to.
QStringList concept_topics();
// The Markdown text of `topic` ("attention", "view-neurons"), empty when there is none.
QString explanation_markdown(const QString& topic);
// The first heading of the text ("Top-p (nucleus sampling)"), else the topic itself.
QString explanation_title(const QString& topic);

}  // namespace ps
