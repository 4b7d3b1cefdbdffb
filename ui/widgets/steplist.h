#pragma once

#include <QWidget>

class QLabel;
class QVBoxLayout;

namespace ft::ui {

// The wizard's steps down the side, with where the administrator is: steps done are
// ticked, the current one is bold and marked, later ones are grey. Read-only: the
// wizard's buttons move between pages.
class StepList : public QWidget
{
    Q_OBJECT

public:
    explicit StepList(QWidget *parent = nullptr);

    // One entry per page id, in order.
    void addStep(int pageId, const QString &title);
    void setCurrent(int pageId);
    int current() const { return m_current; }
    QString currentTitle() const;

private:
    struct Entry
    {
        int pageId = -1;
        QString title;
        QLabel *label = nullptr;
    };

    QList<Entry> m_entries;
    QVBoxLayout *m_layout = nullptr;
    int m_current = -1;
};

} // namespace ft::ui
