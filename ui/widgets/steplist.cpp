#include "widgets/steplist.h"

#include <QLabel>
#include <QVBoxLayout>

namespace ft::ui {

StepList::StepList(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("stepList"));
    setAttribute(Qt::WA_StyledBackground);
    setStyleSheet(QStringLiteral("#stepList { background:#f3f5f8; border-right:1px solid #d5d9e0; }"));
    m_layout = new QVBoxLayout(this);
    m_layout->setContentsMargins(10, 14, 10, 10);
    m_layout->setSpacing(6);
    m_layout->addStretch();
    setMinimumWidth(130);
    setMaximumWidth(190);
}

void StepList::addStep(int pageId, const QString &title)
{
    auto *label = new QLabel;
    label->setObjectName(QStringLiteral("step_%1").arg(pageId));
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    m_layout->insertWidget(m_layout->count() - 1, label);
    m_entries.append({pageId, title, label});
    setCurrent(m_current);
}

void StepList::setCurrent(int pageId)
{
    m_current = pageId;
    int currentIndex = -1;
    for (int i = 0; i < m_entries.size(); ++i) {
        if (m_entries.at(i).pageId == pageId)
            currentIndex = i;
    }
    for (int i = 0; i < m_entries.size(); ++i) {
        const Entry &entry = m_entries.at(i);
        const QString title = entry.title.toHtmlEscaped();
        if (i == currentIndex)
            entry.label->setText(QStringLiteral("<span style='color:#0b57d0'>&#9654;</span> <b>%1</b>").arg(title));
        else if (i < currentIndex)
            entry.label->setText(QStringLiteral("<span style='color:#2e7d32'>&#10003;</span> %1").arg(title));
        else
            entry.label->setText(QStringLiteral("<span style='color:#9aa0a6'>&#9675; %1</span>").arg(title));
        entry.label->setAccessibleName(i == currentIndex ? tr("%1 (current step)").arg(entry.title)
                                                         : entry.title);
    }
}

QString StepList::currentTitle() const
{
    for (const Entry &entry : m_entries) {
        if (entry.pageId == m_current)
            return entry.title;
    }
    return {};
}

} // namespace ft::ui
