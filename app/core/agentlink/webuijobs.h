#pragma once

#include "agentlink/agentclient.h"
#include "model/version.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

// The portal's Web UI files: which ones differ from the pristine manifest, and the
// current or pristine bytes of one of them (API.md).

namespace ft {

struct WebUiCustomizedFile
{
    enum class Change { Modified, Added, Deleted };
    QString path;        // relative to the Web UI folder
    Change change = Change::Modified;
    qint64 size = -1;    // -1 for deleted files
    QDateTime modified;
    QString sha256;      // current, empty for deleted files
    QString pristineSha256; // empty for added files
    bool text = false;
};

struct WebUiCustomizations
{
    Version version;
    QString manifest;
    QList<WebUiCustomizedFile> files;
    QJsonObject raw; // the whole answer, for fields not mapped yet

    static Expected<WebUiCustomizations> fromAgentJson(const QJsonObject &json);
};

// ---- jobs --------------------------------------------------------------------------------

// GET /v1/webui/customizations
class FetchCustomizationsJob : public AgentJob
{
    Q_OBJECT
public:
    FetchCustomizationsJob(AgentClient *client, const AgentEndpoint &endpoint,
                           QObject *parent = nullptr);
    const WebUiCustomizations &customizations() const { return m_customizations; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    WebUiCustomizations m_customizations;
};

// GET /v1/webui/file?path=P&which=current|pristine → bytes
class FetchWebUiFileJob : public AgentJob
{
    Q_OBJECT
public:
    enum class Which { Current, Pristine };
    FetchWebUiFileJob(AgentClient *client, const AgentEndpoint &endpoint, const QString &path,
                      Which which = Which::Current, QObject *parent = nullptr);
    QString path() const { return m_path; }
    const QByteArray &data() const { return m_data; }

protected:
    AgentClient::Request request() const override;
    Result parseReply(const QByteArray &body) override;

private:
    QString m_path;
    Which m_which;
    QByteArray m_data;
};

} // namespace ft
