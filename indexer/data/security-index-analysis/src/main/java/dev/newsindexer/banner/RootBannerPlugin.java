package dev.newsindexer.banner;

import org.elasticsearch.action.ActionType;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.RestHandler;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Registers {@code GET /} and {@code HEAD /} and the local transport action behind them.
 *
 * <p>The action keeps the name the stock endpoint uses, so secured clusters authorize it exactly as they
 * would the built-in banner (any {@code monitor}-level cluster privilege). Install only on a distribution
 * without the rest-root module: both would claim the same route and action name.
 *
 * <p>It also supplies the few analysis components of the security index (see {@link SecurityIndexAnalysis}),
 * so that a node with security on can store API keys.
 */
public final class RootBannerPlugin extends Plugin implements ActionPlugin, AnalysisPlugin {

    static final ActionType<BannerResponse> BANNER_ACTION = new ActionType<>("cluster:monitor/main");

    @Override
    public Collection<ActionHandler> getActions() {
        return List.of(new ActionHandler(BANNER_ACTION, TransportBannerAction.class));
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        RestHandlersServices services,
        Supplier<DiscoveryNodes> nodesInCluster,
        Predicate<NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RestBannerAction());
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return SecurityIndexAnalysis.tokenFilters();
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return SecurityIndexAnalysis.tokenizers();
    }
}
