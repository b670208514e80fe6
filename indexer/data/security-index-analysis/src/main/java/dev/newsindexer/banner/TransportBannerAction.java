package dev.newsindexer.banner;

import org.elasticsearch.Build;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.support.ActionFilters;
import org.elasticsearch.action.support.TransportAction;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.Metadata;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.injection.guice.Inject;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.transport.TransportService;

/** Answers the banner from this node's cluster state and build information; no network round trip. */
public final class TransportBannerAction extends TransportAction<BannerRequest, BannerResponse> {

    private final ClusterService clusterService;

    @Inject
    public TransportBannerAction(TransportService transportService, ActionFilters actionFilters, ClusterService clusterService) {
        super(
            RootBannerPlugin.BANNER_ACTION.name(),
            actionFilters,
            transportService.getTaskManager(),
            EsExecutors.DIRECT_EXECUTOR_SERVICE
        );
        this.clusterService = clusterService;
    }

    @Override
    protected void doExecute(Task task, BannerRequest request, ActionListener<BannerResponse> listener) {
        ClusterState state = clusterService.state();
        Metadata metadata = state.metadata();
        listener.onResponse(
            new BannerResponse(
                clusterService.getNodeName(),
                state.getClusterName().value(),
                metadata.clusterUUIDCommitted() ? metadata.clusterUUID() : Metadata.UNKNOWN_CLUSTER_UUID,
                IndexVersion.current().luceneVersion().toString(),
                Build.current()
            )
        );
    }
}
