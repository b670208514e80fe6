package dev.newsindexer.banner;

import org.elasticsearch.Build;
import org.elasticsearch.action.ActionResponse;
import org.elasticsearch.action.support.TransportAction;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.xcontent.ToXContentObject;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;

/** The node and build facts shown at {@code /}, in the field layout clients expect. */
final class BannerResponse extends ActionResponse implements ToXContentObject {

    private final String nodeName;
    private final String clusterName;
    private final String clusterUuid;
    private final String luceneVersion;
    private final Build build;

    BannerResponse(String nodeName, String clusterName, String clusterUuid, String luceneVersion, Build build) {
        this.nodeName = nodeName;
        this.clusterName = clusterName;
        this.clusterUuid = clusterUuid;
        this.luceneVersion = luceneVersion;
        this.build = build;
    }

    @Override
    public void writeTo(StreamOutput out) {
        TransportAction.localOnly();
    }

    @Override
    public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
        return builder.startObject()
            .field("name", nodeName)
            .field("cluster_name", clusterName)
            .field("cluster_uuid", clusterUuid)
            .startObject("version")
            .field("number", build.qualifiedVersion())
            .field("build_flavor", build.flavor())
            .field("build_type", build.type().displayName())
            .field("build_hash", build.hash())
            .field("build_date", build.date())
            .field("build_snapshot", build.isSnapshot())
            .field("lucene_version", luceneVersion)
            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
            .endObject()
            .field("tagline", "You Know, for Search")
            .endObject();
    }
}
