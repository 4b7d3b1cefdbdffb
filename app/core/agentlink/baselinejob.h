#pragma once

#include "agentlink/agentclient.h"

#include <QStringList>

namespace ft {

// POST /v1/webui/baseline: the agent records the Web UI's files as the baseline of
// the installed version (API.md). The administrator asks for it when the node has no
// baseline and its Web UI is as the vendor shipped it.
class RecordBaselineJob : public AgentJob
{
    Q_OBJECT
public:
    RecordBaselineJob(AgentClient *client, const AgentEndpoint &endpoint, QObject *parent = nullptr);
    QString version() const { return m_version; }
    qint64 files() const { return m_files; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;
    std::chrono::milliseconds defaultTimeout() const override { return std::chrono::seconds(120); }

private:
    QString m_version;
    qint64 m_files = 0;
};

// The Web UI files a package will replace, relative to the Web UI folder: an .ftpkg's
// payload under webui/; a .deb's data.tar, an .rpm's header file list or an .msi's
// File/Directory tables, relative to the folder all its files share. An error when the
// package cannot be read (or, like an .exe, does not list its files).
Expected<QStringList> webUiFilesOfPackage(const QString &packagePath);

} // namespace ft
