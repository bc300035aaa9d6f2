#include "views/widgets/theme.h"

#include "views/widgets/custom_plot.h"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>
#include <algorithm>
#include <typeinfo>

namespace ps {

namespace {

constexpr const char* kHookedProperty = "ps_theme_hooked";

// Applies `map` to the value a view gave an object, not to what the theme made of it: the
// view's value is remembered on first sight and again whenever the object no longer holds
// what the theme last set (the view changed it since).
template <class T, class Map>
T follow(QObject* object, const char* key, const T& current, Map map) {
    const QByteArray original_key = QByteArray("ps_orig_") + key;
    const QByteArray applied_key = QByteArray("ps_applied_") + key;
    const QVariant applied = object->property(applied_key);
    QVariant original = object->property(original_key);
    if (!original.isValid() || !applied.isValid() || applied.value<T>() != current) {
        original = QVariant::fromValue(current);
        object->setProperty(original_key, original);
    }
    const T out = map(original.value<T>());
    object->setProperty(applied_key, QVariant::fromValue(out));
    return out;
}

// As many number ticks as fit with room between their labels at the axis's font and length
// (QCustomPlot's default, 5, overlaps at large text on a short axis). Text, log and other
// special tickers place their own ticks.
void fit_tick_count(QCPAxis* axis) {
    const QSharedPointer<QCPAxisTicker> ticker = axis->ticker();
    if (!ticker) return;
    const QCPAxisTicker& kind = *ticker;
    if (typeid(kind) != typeid(QCPAxisTicker)) return;
    const QFontMetrics fm(axis->tickLabelFont());
    const bool horizontal = axis->orientation() == Qt::Horizontal;
    double label = fm.height();
    if (horizontal) {
        label = fm.horizontalAdvance("0.00");
        for (const QString& text : axis->tickVectorLabels())
            label = std::max<double>(label, fm.horizontalAdvance(text));
    }
    const int length = horizontal ? axis->axisRect()->width() : axis->axisRect()->height();
    if (length <= 0) return;
    ticker->setTickCount(std::clamp(static_cast<int>(length / (2.2 * label)), 2, 5));
}

QPalette high_contrast_palette() {
    QPalette p;
    const QColor black(Qt::black), white(Qt::white), highlight(0x00, 0x3c, 0xb4);
    p.setColor(QPalette::Window, white);
    p.setColor(QPalette::WindowText, black);
    p.setColor(QPalette::Base, white);
    p.setColor(QPalette::AlternateBase, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::Text, black);
    p.setColor(QPalette::Button, QColor(0xf2, 0xf2, 0xf2));
    p.setColor(QPalette::ButtonText, black);
    p.setColor(QPalette::BrightText, QColor(0xc0, 0x00, 0x00));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, white);
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xe0));
    p.setColor(QPalette::ToolTipText, black);
    p.setColor(QPalette::PlaceholderText, QColor(0x44, 0x44, 0x44));
    p.setColor(QPalette::Link, highlight);
    p.setColor(QPalette::Light, white);
    p.setColor(QPalette::Midlight, QColor(0xcc, 0xcc, 0xcc));
    p.setColor(QPalette::Mid, QColor(0x55, 0x55, 0x55));
    p.setColor(QPalette::Dark, QColor(0x22, 0x22, 0x22));
    p.setColor(QPalette::Shadow, black);
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x55, 0x55, 0x55));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x55, 0x55, 0x55));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x55, 0x55, 0x55));
    return p;
}

QPalette dark_palette() {
    QPalette p;
    const QColor window(0x20, 0x22, 0x25), base(0x16, 0x17, 0x19), text(0xe8, 0xe8, 0xe8);
    const QColor highlight(0x3d, 0x8e, 0xf0);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x2d, 0x30, 0x34));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::black);
    p.setColor(QPalette::ToolTipBase, QColor(0x30, 0x33, 0x38));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Link, highlight.lighter(120));
    p.setColor(QPalette::Light, QColor(0x44, 0x47, 0x4c));
    p.setColor(QPalette::Midlight, QColor(0x38, 0x3b, 0x40));
    p.setColor(QPalette::Mid, QColor(0x2a, 0x2c, 0x30));
    p.setColor(QPalette::Dark, QColor(0x10, 0x10, 0x12));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
    return p;
}

}  // namespace

const char* theme_name(Theme t) {
    switch (t) {
        case Theme::System:
            return "system";
        case Theme::HighContrastLight:
            return "light";
        case Theme::Dark:
            return "dark";
    }
    return "system";
}

bool parse_theme(const QString& name, Theme* out) {
    for (Theme t : {Theme::System, Theme::HighContrastLight, Theme::Dark})
        if (name == theme_name(t)) {
            *out = t;
            return true;
        }
    return false;
}

Appearance& Appearance::instance() {
    static Appearance* appearance = new Appearance;  // lives as long as the application
    return *appearance;
}

void Appearance::captureSystem() {
    if (captured_) return;
    captured_ = true;
    system_palette_ = QApplication::palette();
    system_style_ = QApplication::style()->name();
    system_font_ = QApplication::font();
}

void Appearance::setTheme(Theme theme) {
    captureSystem();
    theme_ = theme;
    if (theme == Theme::System) {
        if (QApplication::style()->name() != system_style_)
            QApplication::setStyle(QStyleFactory::create(system_style_));
        QApplication::setPalette(system_palette_);
    } else {
        // Fusion draws every control from the palette, so the colours apply everywhere.
        if (QApplication::style()->name().compare("fusion", Qt::CaseInsensitive) != 0)
            QApplication::setStyle(QStyleFactory::create("Fusion"));
        QApplication::setPalette(theme == Theme::Dark ? dark_palette() : high_contrast_palette());
    }
    refreshAll();
    emit changed();
}

void Appearance::setFontScale(double scale) {
    captureSystem();
    font_scale_ = std::clamp(scale, kMinScale, kMaxScale);
    QApplication::setFont(scaled(system_font_));
    applyToWidgetFonts();
    refreshAll();
    emit changed();
}

void keep_height_with_text(QWidget* widget, int min_height, int max_height) {
    const auto apply = [widget, min_height, max_height] {
        const double s = Appearance::instance().fontScale();
        widget->setMinimumHeight(static_cast<int>(min_height * s));
        widget->setMaximumHeight(static_cast<int>(max_height * s));
    };
    apply();
    QObject::connect(&Appearance::instance(), &Appearance::changed, widget, apply);
}

void Appearance::setClassroom(bool on) {
    line_scale_ = on ? kClassroomLines : 1.0;
    // Each of these applies itself and repaints; the last one's `changed` reaches the menus.
    setTheme(on ? Theme::HighContrastLight : Theme::System);
    setFontScale(on ? kClassroomScale : 1.0);
}

QFont Appearance::scaled(const QFont& original) const {
    QFont f = original;
    if (original.pointSizeF() > 0)
        f.setPointSizeF(original.pointSizeF() * font_scale_);
    else if (original.pixelSize() > 0)
        f.setPixelSize(std::max(1, static_cast<int>(original.pixelSize() * font_scale_ + 0.5)));
    return f;
}

QColor Appearance::themed(const QColor& original) const {
    if (theme_ == Theme::System || !original.isValid()) return original;
    // Saturated colours carry meaning (a series, a selection): kept. Greys follow the theme.
    if (original.hsvSaturation() > 40) return original;
    QColor out = original;
    const int lightness = original.lightness();
    if (theme_ == Theme::Dark)
        out.setHsl(original.hslHue(), original.hslSaturation(), 255 - lightness * 88 / 100,
                   original.alpha());
    else if (lightness < 160)  // high contrast: dark greys (secondary text) become black
        out.setHsl(original.hslHue(), original.hslSaturation(), 0, original.alpha());
    return out;
}

void Appearance::applyToWidgetFonts() const {
    // Widgets that set their own font size (a larger prompt, a monospace table) do not follow
    // the application font; scale theirs from the size they chose.
    for (QWidget* w : QApplication::allWidgets()) {
        if (!w->testAttribute(Qt::WA_SetFont)) continue;
        if (!(w->font().resolveMask() & QFont::SizeResolved)) continue;
        w->setFont(follow(w, "font", w->font(), [this](const QFont& f) { return scaled(f); }));
    }
}

void Appearance::watch(QCustomPlot* plot) {
    if (plot->property(kHookedProperty).toBool()) return;
    plot->setProperty(kHookedProperty, true);
    connect(plot, &QCustomPlot::beforeReplot, plot, [this, plot] { applyToPlot(plot); });
}

void Appearance::refreshAll() {
    for (QWidget* w : QApplication::allWidgets())
        if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
            watch(plot);
            plot->replot(QCustomPlot::rpQueuedReplot);
        }
}

void Appearance::applyToPlot(QCustomPlot* plot) const {
    const bool dark = theme_ == Theme::Dark;
    plot->setBackground(QBrush(dark ? QColor(0x16, 0x17, 0x19) : QColor(Qt::white)));
    auto color = [this](const QColor& c) { return themed(c); };
    auto pen = [this](QPen p) {
        p.setColor(themed(p.color()));
        return p;
    };
    auto brush = [this](QBrush b) {
        if (b.style() != Qt::NoBrush) b.setColor(themed(b.color()));
        return b;
    };
    auto font = [this](const QFont& f) { return scaled(f); };
    // Lines the view drew (series, bars' outlines, axes): thicker in the Classroom preset.
    auto thick = [this, pen](QPen p) {
        p = pen(p);
        if (p.style() != Qt::NoPen) p.setWidthF(std::max(1.0, p.widthF()) * line_scale_);
        return p;
    };
    for (int i = 0; i < plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot->plottable(i);
        p->setPen(follow(p, "pen", p->pen(), thick));
    }
    for (QCPAxis* axis : plot->findChildren<QCPAxis*>()) {
        axis->setBasePen(follow(axis, "basePen", axis->basePen(), thick));
        axis->setTickPen(follow(axis, "tickPen", axis->tickPen(), thick));
        axis->setSubTickPen(follow(axis, "subTickPen", axis->subTickPen(), pen));
        axis->setLabelColor(follow(axis, "labelColor", axis->labelColor(), color));
        axis->setTickLabelColor(follow(axis, "tickLabelColor", axis->tickLabelColor(), color));
        axis->setLabelFont(follow(axis, "labelFont", axis->labelFont(), font));
        axis->setTickLabelFont(follow(axis, "tickLabelFont", axis->tickLabelFont(), font));
        fit_tick_count(axis);
    }
    for (QCPGrid* grid : plot->findChildren<QCPGrid*>()) {
        grid->setPen(follow(grid, "pen", grid->pen(), pen));
        grid->setSubGridPen(follow(grid, "subGridPen", grid->subGridPen(), pen));
        grid->setZeroLinePen(follow(grid, "zeroLinePen", grid->zeroLinePen(), pen));
    }
    for (QCPLegend* legend : plot->findChildren<QCPLegend*>()) {
        legend->setBrush(follow(legend, "brush", legend->brush(), brush));
        legend->setBorderPen(follow(legend, "borderPen", legend->borderPen(), pen));
        legend->setTextColor(follow(legend, "textColor", legend->textColor(), color));
        legend->setFont(follow(legend, "font", legend->font(), font));
    }
    for (QCPTextElement* text : plot->findChildren<QCPTextElement*>()) {
        text->setTextColor(follow(text, "textColor", text->textColor(), color));
        text->setFont(follow(text, "font", text->font(), font));
    }
    for (QCPItemText* text : plot->findChildren<QCPItemText*>()) {
        text->setColor(follow(text, "color", text->color(), color));
        text->setBrush(follow(text, "brush", text->brush(), brush));
        text->setFont(follow(text, "font", text->font(), font));
    }
    for (QCPItemStraightLine* line : plot->findChildren<QCPItemStraightLine*>())
        line->setPen(follow(line, "pen", line->pen(), pen));
    for (QCPItemLine* line : plot->findChildren<QCPItemLine*>())
        line->setPen(follow(line, "pen", line->pen(), pen));
}

}  // namespace ps
