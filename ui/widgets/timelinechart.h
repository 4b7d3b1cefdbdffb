#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <QWidget>

namespace ft::ui {

// A Gantt-like view of a rolling upgrade: one lane per node, one bar per outage
// window. It knows nothing of plans; the Plan page turns a plan into bars.
class TimelineChart : public QWidget
{
    Q_OBJECT

public:
    enum class BarKind { Staging, Worker, Portal, Nbi, WebUi };

    struct Bar
    {
        QString lane;          // node name
        BarKind kind = BarKind::Worker;
        qint64 startSeconds = 0;
        qint64 durationSeconds = 0;
        bool receivesFlows = false;
        QString label;         // drawn in the bar when it fits
        QString toolTip;
    };

    explicit TimelineChart(QWidget *parent = nullptr);

    void setBars(const QList<Bar> &bars);
    const QList<Bar> &bars() const { return m_bars; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

    static QColor colorFor(BarKind kind);

protected:
    void resizeEvent(QResizeEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct LegendEntry
    {
        int kind = -1; // a BarKind, or -1 for the flow marker
        QString text;
        QPointF origin;
    };
    QList<LegendEntry> legendLayout(int width) const;
    int legendHeight() const;
    int m_legendHeight = 0;

    struct Geometry
    {
        QRectF plot;
        qreal laneHeight = 0;
        qreal secondsToPixels = 0;
    };
    Geometry geometry() const;
    QRectF barRect(const Bar &bar, const Geometry &geometry) const;
    qint64 totalSeconds() const;

    QList<Bar> m_bars;
    QStringList m_lanes;
};

} // namespace ft::ui
