#include "widgets/timelinechart.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>

namespace ft::ui {

namespace {

constexpr int kLaneHeight = 26;
constexpr int kLabelWidth = 120;
constexpr int kAxisHeight = 22;
constexpr int kLegendRowHeight = 18;
constexpr int kMargin = 8;

// A tick step that gives readable labels: 1, 2, 5, 10, 15, 30 minutes, then hours.
qint64 tickStep(qint64 totalSeconds, qreal widthPixels)
{
    static const qint64 steps[] = {60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800};
    for (qint64 step : steps) {
        if (widthPixels / (qreal(totalSeconds) / step) >= 56)
            return step;
    }
    return 86400;
}

QString formatOffset(qint64 seconds)
{
    if (seconds % 3600 == 0 && seconds >= 3600)
        return QStringLiteral("+%1 h").arg(seconds / 3600);
    if (seconds >= 3600)
        return QStringLiteral("+%1:%2").arg(seconds / 3600).arg((seconds % 3600) / 60, 2, 10,
                                                                   QLatin1Char('0'));
    return QStringLiteral("+%1 min").arg(seconds / 60);
}

} // namespace

TimelineChart::TimelineChart(QWidget *parent)
    : QWidget(parent)
{
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void TimelineChart::setBars(const QList<Bar> &bars)
{
    m_bars = bars;
    m_lanes.clear();
    for (const Bar &bar : bars) {
        if (!m_lanes.contains(bar.lane))
            m_lanes.append(bar.lane);
    }
    updateGeometry();
    update();
}

QColor TimelineChart::colorFor(BarKind kind)
{
    switch (kind) {
    case BarKind::Staging: return QColor(0x9e, 0x9e, 0x9e);
    case BarKind::Worker: return QColor(0x3b, 0x7d, 0xd8);
    case BarKind::Portal: return QColor(0xd9, 0x4f, 0x3d);
    case BarKind::Nbi: return QColor(0x8e, 0x5c, 0xc2);
    case BarKind::WebUi: return QColor(0xe0, 0x8e, 0x1b);
    }
    return Qt::gray;
}

QList<TimelineChart::LegendEntry> TimelineChart::legendLayout(int width) const
{
    // The legend wraps onto more rows on a narrow chart rather than being cut off.
    const QFontMetrics metrics = fontMetrics();
    const std::pair<int, QString> entries[] = {
        {int(BarKind::Staging), tr("Staging (no outage)")},
        {int(BarKind::Worker), tr("Worker down: slower, partial queries")},
        {int(BarKind::Portal), tr("Portal down: no queries")},
        {int(BarKind::Nbi), tr("NBI")},
        {int(BarKind::WebUi), tr("Web UI unavailable")},
        {-1, tr("flows lost while down")},
    };
    QList<LegendEntry> layout;
    qreal x = kMargin;
    int row = 0;
    for (const auto &[kind, text] : entries) {
        const qreal entryWidth = 16 + metrics.horizontalAdvance(text);
        if (x > kMargin && x + entryWidth > width - kMargin) {
            ++row;
            x = kMargin;
        }
        layout.append({kind, text, QPointF(x, kMargin + 4 + row * kLegendRowHeight)});
        x += entryWidth + 14;
    }
    return layout;
}

int TimelineChart::legendHeight() const
{
    const QList<LegendEntry> layout = legendLayout(width() > 0 ? width() : 640);
    const qreal last = layout.isEmpty() ? kMargin : layout.last().origin.y();
    return int(last - kMargin) + kLegendRowHeight + 6;
}

void TimelineChart::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    const int height = legendHeight();
    if (height != m_legendHeight) {
        m_legendHeight = height;
        updateGeometry();
    }
}

QSize TimelineChart::sizeHint() const
{
    const int lanes = std::max<qsizetype>(1, m_lanes.size());
    return {640, 2 * kMargin + kAxisHeight + legendHeight() + lanes * kLaneHeight};
}

QSize TimelineChart::minimumSizeHint() const
{
    return {360, sizeHint().height()};
}

qint64 TimelineChart::totalSeconds() const
{
    qint64 end = 60;
    for (const Bar &bar : m_bars)
        end = std::max(end, bar.startSeconds + bar.durationSeconds);
    return end;
}

TimelineChart::Geometry TimelineChart::geometry() const
{
    Geometry geometry;
    geometry.plot = QRectF(kMargin + kLabelWidth, kMargin + legendHeight(),
                           width() - 2 * kMargin - kLabelWidth,
                           m_lanes.size() * kLaneHeight);
    geometry.laneHeight = kLaneHeight;
    geometry.secondsToPixels = geometry.plot.width() / qreal(totalSeconds());
    return geometry;
}

QRectF TimelineChart::barRect(const Bar &bar, const Geometry &geometry) const
{
    const int lane = m_lanes.indexOf(bar.lane);
    const qreal x = geometry.plot.left() + bar.startSeconds * geometry.secondsToPixels;
    // A short step stays visible: at least 3 px wide.
    const qreal w = std::max<qreal>(3, bar.durationSeconds * geometry.secondsToPixels);
    return QRectF(x, geometry.plot.top() + lane * geometry.laneHeight + 4, w,
                  geometry.laneHeight - 8);
}

void TimelineChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    painter.fillRect(rect(), pal.base());

    const Geometry g = geometry();
    const QFontMetrics metrics = fontMetrics();

    // Legend on top: what each colour means, and the flow marker; wrapped to the width.
    for (const LegendEntry &entry : legendLayout(width())) {
        const QPointF at = entry.origin;
        if (entry.kind >= 0) {
            painter.fillRect(QRectF(at.x(), at.y(), 12, 12), colorFor(BarKind(entry.kind)));
        } else {
            painter.setPen(QPen(QColor(0x1b, 0x8a, 0x3a), 2));
            painter.drawLine(QPointF(at.x(), at.y() + 6), QPointF(at.x() + 10, at.y() + 6));
        }
        painter.setPen(pal.color(QPalette::Text));
        painter.drawText(QPointF(at.x() + 16, at.y() + 11), entry.text);
    }

    // Lanes: alternate shading, node names on the left.
    for (int i = 0; i < m_lanes.size(); ++i) {
        const QRectF lane(kMargin, g.plot.top() + i * g.laneHeight, width() - 2 * kMargin,
                          g.laneHeight);
        if (i % 2)
            painter.fillRect(lane, pal.color(QPalette::AlternateBase));
        painter.setPen(pal.color(QPalette::Text));
        painter.drawText(QRectF(kMargin + 4, lane.top(), kLabelWidth - 8, lane.height()),
                         Qt::AlignVCenter | Qt::AlignLeft,
                         metrics.elidedText(m_lanes.at(i), Qt::ElideRight, kLabelWidth - 8));
    }

    // Time axis below the lanes, with grid lines across them.
    const qint64 total = totalSeconds();
    const qint64 step = tickStep(total, g.plot.width());
    const qreal axisY = g.plot.bottom() + 2;
    painter.setPen(pal.color(QPalette::Mid));
    painter.drawLine(QPointF(g.plot.left(), axisY), QPointF(g.plot.right(), axisY));
    for (qint64 t = 0; t <= total; t += step) {
        const qreal tx = g.plot.left() + t * g.secondsToPixels;
        painter.setPen(QPen(pal.color(QPalette::Midlight), 1, Qt::DotLine));
        painter.drawLine(QPointF(tx, g.plot.top()), QPointF(tx, axisY));
        painter.setPen(pal.color(QPalette::Text));
        const QString text = t == 0 ? tr("start") : formatOffset(t);
        const qreal textWidth = metrics.horizontalAdvance(text);
        const qreal left = std::min(tx - textWidth / 2, g.plot.right() - textWidth);
        painter.drawText(QPointF(std::max(g.plot.left(), left), axisY + metrics.ascent() + 3), text);
    }

    // Bars, labelled where there is room; flow receivers get a green underline.
    for (const Bar &bar : m_bars) {
        const QRectF r = barRect(bar, g);
        QPainterPath path;
        path.addRoundedRect(r, 3, 3);
        painter.fillPath(path, colorFor(bar.kind));
        if (bar.receivesFlows && bar.kind != BarKind::Staging) {
            painter.setPen(QPen(QColor(0x1b, 0x8a, 0x3a), 3));
            painter.drawLine(QPointF(r.left(), r.bottom() + 2), QPointF(r.right(), r.bottom() + 2));
        }
        if (!bar.label.isEmpty() && metrics.horizontalAdvance(bar.label) + 8 < r.width()) {
            painter.setPen(Qt::white);
            painter.drawText(r, Qt::AlignCenter, bar.label);
        }
    }
}

bool TimelineChart::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(event);
        const Geometry g = geometry();
        for (const Bar &bar : m_bars) {
            if (barRect(bar, g).adjusted(-2, -2, 2, 2).contains(help->pos())) {
                QToolTip::showText(help->globalPos(), bar.toolTip, this);
                return true;
            }
        }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QWidget::event(event);
}

} // namespace ft::ui
